// Command sepia is an example resizer plugin, written the way a third party
// would write one: it imports only the plugin SDK
// (github.com/seed62486500/resizer/plugins/sdk) and the standard library,
// builds to a binary of its own, and is registered with the daemon by path
// and SHA-256. README.md says how to build, register and use it.
//
// Run by hand it only prints that it is meant to be started by resizer.
package main

import "github.com/seed62486500/resizer/plugins/sdk"

func main() { sdk.Serve(New()) }
