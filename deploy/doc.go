// Package deploy holds the AWS deployment of resizer: the CloudFormation
// template (resizer.yaml), the systemd unit, the install and packaging
// scripts and the example configuration. It has no Go code of its own; its
// tests check the template's IAM policies for least privilege and the
// scripts for what the template's user data relies on.
package deploy
