package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/seed62486500/resizer/engine/config"
)

// template is a CloudFormation template read into plain values, with the
// YAML short tags (!Ref, !Sub, !GetAtt, ...) turned into their long forms.
type template struct {
	Parameters map[string]any
	Conditions map[string]any
	Resources  map[string]any
}

func loadTemplate(t *testing.T, file string) template {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	v, err := plain(&doc)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	m, _ := v.(map[string]any)
	tpl := template{Parameters: asMap(m["Parameters"]), Conditions: asMap(m["Conditions"]), Resources: asMap(m["Resources"])}
	if len(tpl.Resources) == 0 {
		t.Fatalf("%s: no Resources", file)
	}
	return tpl
}

// plain converts a YAML node to maps, slices and strings, expanding the
// CloudFormation short tags.
func plain(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return plain(n.Content[0])
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.ScalarNode:
		v = n.Value
	case yaml.SequenceNode:
		items := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := plain(c)
			if err != nil {
				return nil, err
			}
			items = append(items, x)
		}
		v = items
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			x, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = x
		}
		v = m
	}
	tag, ok := strings.CutPrefix(n.Tag, "!")
	if !ok || strings.HasPrefix(tag, "!") { // "!!str" and the like are YAML's own
		return v, nil
	}
	switch tag {
	case "Ref":
		return map[string]any{"Ref": v}, nil
	case "Condition":
		return map[string]any{"Condition": v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q has no attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Sub", "If", "Join", "Select", "Split", "FindInMap", "Base64", "Not", "Equals", "And", "Or",
		"GetAZs", "ImportValue", "Cidr", "Length", "ToJsonString":
		return map[string]any{"Fn::" + tag: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag !%s", n.Line, tag)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// stack evaluates template values for one set of parameter values: Refs to
// parameters and pseudo parameters become their values, Fn::If picks its
// branch, Fn::Sub substitutes; a resource's Ref becomes "<Name>" and
// Fn::GetAtt "<Name.Attr>".
type stack struct {
	tpl    template
	params map[string]string
}

func newStack(tpl template, overrides map[string]string) *stack {
	params := map[string]string{
		"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
		"AWS::StackName": "resizer", "AWS::URLSuffix": "amazonaws.com",
	}
	for name, p := range tpl.Parameters {
		if d, ok := asMap(p)["Default"]; ok {
			params[name] = fmt.Sprint(d)
		}
	}
	for k, v := range overrides {
		params[k] = v
	}
	return &stack{tpl: tpl, params: params}
}

var noValue = struct{}{}

func (s *stack) eval(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			if e := s.eval(item); e != noValue {
				out = append(out, e)
			}
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref":
					name := arg.(string)
					if name == "AWS::NoValue" {
						return noValue
					}
					if p, ok := s.params[name]; ok {
						return p
					}
					return "<" + name + ">"
				case "Fn::GetAtt":
					a := asList(arg)
					return fmt.Sprintf("<%v.%v>", a[0], a[1])
				case "Fn::If":
					a := asList(arg)
					if s.condition(a[0].(string)) {
						return s.eval(a[1])
					}
					return s.eval(a[2])
				case "Fn::Sub":
					return s.sub(arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, item := range x {
			if e := s.eval(item); e != noValue {
				out[k] = e
			}
		}
		return out
	}
	return v
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

func (s *stack) sub(arg any) string {
	text, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		text, vars = a[0].(string), asMap(a[1])
	}
	return subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return fmt.Sprint(s.eval(v))
		}
		if p, ok := s.params[name]; ok {
			return p
		}
		return "<" + name + ">"
	})
}

func (s *stack) condition(name string) bool {
	return s.truth(s.tpl.Conditions[name])
}

func (s *stack) truth(v any) bool {
	m := asMap(v)
	for k, arg := range m {
		a := asList(arg)
		switch k {
		case "Fn::Equals":
			return fmt.Sprint(s.eval(a[0])) == fmt.Sprint(s.eval(a[1]))
		case "Fn::Not":
			return !s.truth(a[0])
		case "Fn::And":
			return !slices.ContainsFunc(a, func(c any) bool { return !s.truth(c) })
		case "Fn::Or":
			return slices.ContainsFunc(a, s.truth)
		case "Condition":
			return s.condition(arg.(string))
		}
	}
	panic(fmt.Sprintf("cannot evaluate condition %v", v))
}

// resource returns a resource's evaluated properties, nil when its
// condition leaves it out.
func (s *stack) resource(name string) map[string]any {
	r := asMap(s.tpl.Resources[name])
	if r == nil {
		return nil
	}
	if c, ok := r["Condition"].(string); ok && !s.condition(c) {
		return nil
	}
	return asMap(s.eval(r["Properties"]))
}

func (s *stack) resourceType(name string) string {
	t, _ := asMap(s.tpl.Resources[name])["Type"].(string)
	return t
}

// statement is one IAM policy statement, evaluated.
type statement struct {
	from      string // where it was found
	effect    string
	actions   []string
	resources []string
	raw       map[string]any
}

func statements(from string, doc any) []statement {
	var out []statement
	for i, st := range asList(asMap(doc)["Statement"]) {
		m := asMap(st)
		s := statement{from: fmt.Sprintf("%s statement %d", from, i), raw: m}
		s.effect, _ = m["Effect"].(string)
		for _, a := range asList(m["Action"]) {
			s.actions = append(s.actions, fmt.Sprint(a))
		}
		for _, r := range asList(m["Resource"]) {
			s.resources = append(s.resources, fmt.Sprint(r))
		}
		out = append(out, s)
	}
	return out
}

// daemonRole finds the role of the instance profile that the launch
// template gives the instances.
func (s *stack) daemonRole(t *testing.T) string {
	t.Helper()
	for name := range s.tpl.Resources {
		if s.resourceType(name) != "AWS::EC2::LaunchTemplate" {
			continue
		}
		arn, _ := asMap(asMap(s.resource(name)["LaunchTemplateData"])["IamInstanceProfile"])["Arn"].(string)
		profile, ok := strings.CutSuffix(strings.TrimPrefix(arn, "<"), ".Arn>")
		if !ok || s.resourceType(profile) != "AWS::IAM::InstanceProfile" {
			t.Fatalf("launch template %s: instance profile %q is not a profile of this template", name, arn)
		}
		roles := asList(s.resource(profile)["Roles"])
		if len(roles) != 1 {
			t.Fatalf("instance profile %s has roles %v, want one", profile, roles)
		}
		return strings.Trim(fmt.Sprint(roles[0]), "<>")
	}
	t.Fatal("no launch template")
	return ""
}

// grants gathers every statement that applies to role: its inline
// policies and the policies of this template attached to it. Managed
// policies from outside the template cannot be checked and are refused.
func (s *stack) grants(t *testing.T, role string) []statement {
	t.Helper()
	props := s.resource(role)
	if props == nil {
		t.Fatalf("role %s not in the template", role)
	}
	var out []statement
	for _, p := range asList(props["Policies"]) {
		pm := asMap(p)
		out = append(out, statements(fmt.Sprintf("%s policy %v", role, pm["PolicyName"]), pm["PolicyDocument"])...)
	}
	for _, arn := range asList(props["ManagedPolicyArns"]) {
		name := strings.Trim(fmt.Sprint(arn), "<>")
		if s.resourceType(name) != "AWS::IAM::ManagedPolicy" {
			t.Errorf("%s: managed policy %v cannot be checked here", role, arn)
			continue
		}
		out = append(out, statements(name, s.resource(name)["PolicyDocument"])...)
	}
	for name := range s.tpl.Resources {
		switch s.resourceType(name) {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy":
		default:
			continue
		}
		props := s.resource(name)
		attached := slices.Contains(asList(props["Roles"]), any("<"+role+">")) || props["RoleName"] == "<"+role+">"
		if attached {
			out = append(out, statements(name, props["PolicyDocument"])...)
		}
	}
	return out
}

// wildcards lists what makes statements broader than least privilege on
// S3 and SQS: wildcard actions, NotAction or NotResource, and resources
// that do not name one bucket or one queue.
func wildcards(sts []statement) []string {
	var problems []string
	for _, st := range sts {
		if st.effect != "Allow" {
			continue
		}
		if _, ok := st.raw["NotAction"]; ok {
			problems = append(problems, st.from+": NotAction")
		}
		if _, ok := st.raw["NotResource"]; ok {
			problems = append(problems, st.from+": NotResource")
		}
		storage := false
		for _, a := range st.actions {
			service, op, _ := strings.Cut(strings.ToLower(a), ":")
			if a == "*" {
				problems = append(problems, st.from+`: action "*"`)
				storage = true
				continue
			}
			if service == "s3" || service == "sqs" {
				storage = true
				if strings.ContainsAny(op, "*?") {
					problems = append(problems, fmt.Sprintf("%s: wildcard action %q", st.from, a))
				}
			}
		}
		if !storage {
			continue
		}
		for _, r := range st.resources {
			if p := broadResource(r); p != "" {
				problems = append(problems, fmt.Sprintf("%s: resource %q %s", st.from, r, p))
			}
		}
	}
	return problems
}

// broadResource says why r reaches more than one bucket (and keys under a
// prefix of it) or one queue, or "" when it does not.
func broadResource(r string) string {
	if r == "*" {
		return "is everything"
	}
	if strings.HasPrefix(r, "<") && strings.HasSuffix(r, ".Arn>") {
		return "" // the ARN of one resource of the template
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "is not an ARN"
	}
	switch parts[2] {
	case "s3":
		bucket, _, _ := strings.Cut(parts[5], "/")
		if bucket == "" || strings.ContainsAny(bucket, "*?") {
			return "does not name one bucket"
		}
	case "sqs":
		if strings.ContainsAny(parts[3]+parts[4]+parts[5], "*?") || parts[5] == "" {
			return "does not name one queue"
		}
	default:
		if strings.ContainsAny(r, "*?") {
			return "has a wildcard"
		}
	}
	return ""
}

const templateFile = "resizer.yaml"

// TestDaemonRoleIsLeastPrivilege fails on any wildcard S3 or SQS action or
// resource in the daemon's role, and checks that it is granted exactly what
// the daemon calls, on exactly the resources it needs, for the default
// parameters and for others.
func TestDaemonRoleIsLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t, templateFile)
	bucketARN := "arn:aws:s3:::" + config.DefaultBucket
	tests := []struct {
		name   string
		params map[string]string
		want   map[string][]string // action → resources
	}{
		{"defaults", nil, map[string][]string{
			"s3:GetObject":                {bucketARN + "/*"},
			"s3:ListBucket":               {bucketARN},
			"s3:PutObject":                {bucketARN + "/processed/*"},
			"sqs:ReceiveMessage":          {"<Inbox.Arn>"},
			"sqs:DeleteMessage":           {"<Inbox.Arn>"},
			"sqs:ChangeMessageVisibility": {"<Inbox.Arn>"},
			"sqs:GetQueueAttributes":      {"<Inbox.Arn>"},
			"sqs:SendMessage":             {"<Outbox.Arn>"},
		}},
		{"input prefix, KMS key, pipe feed", map[string]string{
			"InputPrefix": "uploads/", "OutputPrefix": "out/", "BucketName": "photos",
			"KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd", "InboxFeed": "pipe",
		}, map[string][]string{
			"s3:GetObject":                {"arn:aws:s3:::photos/uploads/*"},
			"s3:ListBucket":               {"arn:aws:s3:::photos"},
			"s3:PutObject":                {"arn:aws:s3:::photos/out/*"},
			"sqs:ReceiveMessage":          {"<Inbox.Arn>"},
			"sqs:DeleteMessage":           {"<Inbox.Arn>"},
			"sqs:ChangeMessageVisibility": {"<Inbox.Arn>"},
			"sqs:GetQueueAttributes":      {"<Inbox.Arn>"},
			"sqs:SendMessage":             {"<Outbox.Arn>"},
			"kms:Decrypt":                 {"arn:aws:kms:us-east-1:123456789012:key/1234abcd"},
			"kms:GenerateDataKey":         {"arn:aws:kms:us-east-1:123456789012:key/1234abcd"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(tpl, tt.params)
			role := s.daemonRole(t)
			sts := s.grants(t, role)
			for _, p := range wildcards(sts) {
				t.Errorf("daemon role %s: %s", role, p)
			}
			got := map[string][]string{}
			for _, st := range sts {
				if st.effect != "Allow" {
					continue
				}
				for _, a := range st.actions {
					got[a] = append(got[a], st.resources...)
				}
			}
			for a := range got {
				sort.Strings(got[a])
			}
			for a, want := range tt.want {
				if !slices.Equal(got[a], want) {
					t.Errorf("%s on %q, want %q", a, got[a], want)
				}
			}
			for a := range got {
				if _, ok := tt.want[a]; !ok {
					t.Errorf("%s is granted (on %q) but the daemon does not call it", a, got[a])
				}
			}
		})
	}
}

// TestBroadVariantFailsTheCheck shows the check at work on the broad
// policy of deploy/iam-broad-variant.json, which the template does not use.
func TestBroadVariantFailsTheCheck(t *testing.T) {
	data, err := os.ReadFile("iam-broad-variant.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	problems := wildcards(statements("broad variant", doc))
	for _, want := range []string{`wildcard action "s3:*"`, `wildcard action "sqs:*"`} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("the check does not report %s; it reports %q", want, problems)
		}
	}
	for _, r := range []struct{ arn, want string }{
		{"*", "is everything"},
		{"arn:aws:s3:::*", "does not name one bucket"},
		{"arn:aws:s3:::bucket-*/processed/*", "does not name one bucket"},
		{"arn:aws:sqs:us-east-1:123456789012:*", "does not name one queue"},
		{"arn:aws:sqs:*:123456789012:inbox.fifo", "does not name one queue"},
		{"arn:aws:s3:::photos/uploads/*", ""},
		{"arn:aws:sqs:us-east-1:123456789012:inbox.fifo", ""},
	} {
		if got := broadResource(r.arn); got != r.want {
			t.Errorf("broadResource(%q) = %q, want %q", r.arn, got, r.want)
		}
	}
}

// TestTemplateShape checks what the operator's guide says of the template:
// reference names as defaults, the output prefix left out of the feed, the
// dead-letter redrive, the queue and bucket policies, IMDSv2.
func TestTemplateShape(t *testing.T) {
	tpl := loadTemplate(t, templateFile)
	s := newStack(tpl, nil)
	def := config.Default()
	eq := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", what, g, w)
		}
	}
	eq("BucketName default", s.params["BucketName"], def.Bucket)
	eq("InboxQueueName default", s.params["InboxQueueName"], path.Base(def.InboxURL))
	eq("OutboxQueueName default", s.params["OutboxQueueName"], path.Base(def.OutboxURL))
	eq("OutputPrefix default", s.params["OutputPrefix"], def.OutputPrefix)

	rule := s.resource("ObjectCreatedRule")
	eq("rule key filter", asMap(asMap(asMap(rule["EventPattern"])["detail"])["object"])["key"],
		[]any{map[string]any{"anything-but": map[string]any{"prefix": "processed/"}}})
	eq("rule target", asMap(asList(rule["Targets"])[0])["Arn"], "<Inbox.Arn>")
	eq("rule group id", asMap(asList(rule["Targets"])[0])["SqsParameters"], map[string]any{"MessageGroupId": "s3-object-created"})

	inbox := s.resource("Inbox")
	eq("inbox FIFO", inbox["FifoQueue"], "true")
	eq("inbox redrive", inbox["RedrivePolicy"], map[string]any{"deadLetterTargetArn": "<DeadLetterQueue.Arn>", "maxReceiveCount": "5"})
	eq("dead-letter FIFO", s.resource("DeadLetterQueue")["FifoQueue"], "true")
	eq("outbox FIFO", s.resource("Outbox")["FifoQueue"], "true")

	send := statements("InboxPolicy", s.resource("InboxPolicy")["PolicyDocument"])[0]
	eq("inbox policy sender", send.raw["Principal"], map[string]any{"Service": "events.amazonaws.com"})
	eq("inbox policy condition", send.raw["Condition"], map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": "<ObjectCreatedRule.Arn>"}})

	bucket := statements("BucketPolicy", s.resource("BucketPolicy")["PolicyDocument"])
	eq("TLS only", bucket[0].raw["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}})
	eq("TLS only effect", bucket[0].effect, "Deny")
	eq("outputs deny", bucket[1].raw["Condition"], map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": "<DaemonRole.Arn>"}})
	eq("outputs deny resource", bucket[1].resources, []string{"<Bucket.Arn>/processed/*"})

	access := asMap(s.resource("Bucket")["PublicAccessBlockConfiguration"])
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		eq(k, access[k], "true")
	}
	eq("EventBridge notifications", s.resource("Bucket")["NotificationConfiguration"],
		map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": "true"}})

	lt := asMap(s.resource("LaunchTemplate")["LaunchTemplateData"])
	eq("IMDSv2", asMap(lt["MetadataOptions"])["HttpTokens"], "required")
	eq("AMI", lt["ImageId"], "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}")
	x86 := asMap(newStack(tpl, map[string]string{"Architecture": "x86_64"}).resource("LaunchTemplate")["LaunchTemplateData"])
	eq("x86_64 AMI", x86["ImageId"], "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}")
	eq("x86_64 instance type", x86["InstanceType"], "c7i.large")

	// In pipe mode the rule feeds the staging queue and only the pipe's
	// role may send to the inbox.
	p := newStack(tpl, map[string]string{"InboxFeed": "pipe"})
	eq("pipe rule target", asMap(asList(p.resource("ObjectCreatedRule")["Targets"])[0])["Arn"], "<StagingQueue.Arn>")
	eq("pipe inbox sender", statements("InboxPolicy", p.resource("InboxPolicy")["PolicyDocument"])[0].raw["Principal"],
		map[string]any{"AWS": "<PipeRole.Arn>"})
	if s.resource("InboxPipe") != nil || p.resource("InboxPipe") == nil {
		t.Error("the pipe exists in rule mode or is missing in pipe mode")
	}
}

// TestUserDataUsesTheInstaller keeps the launch template's user data and
// the install script in step.
func TestUserDataUsesTheInstaller(t *testing.T) {
	s := newStack(loadTemplate(t, templateFile), map[string]string{"ArtifactUrl": "https://example.com/r-{arch}.tar.gz"})
	ud := fmt.Sprint(asMap(asMap(s.resource("LaunchTemplate")["LaunchTemplateData"])["UserData"])["Fn::Base64"])
	for _, want := range []string{
		`"$work/deploy/install.sh" --binary "$work/resizer" --config "$work/config.yaml" --recipes "$work/recipes"`,
		"sed 's/{arch}/arm64/g'",
		"inbox_url: <Inbox>",
		`metrics_addr: ":9464"`,
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q:\n%s", want, ud)
		}
	}
}
