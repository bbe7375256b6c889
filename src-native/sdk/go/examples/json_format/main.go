// json_format — a Go program for kvmfilter: POST a JSON document, get it back indented (the default, or arg
// "indent") or compacted (arg "compact"); a document that is not JSON gets 400 with X-Failed saying where.
// Outside the sandbox it formats standard input to standard output, for comparing its speed with native.
//
//	cd src-native/sdk/go && CGO_ENABLED=0 go build -o json_format ./examples/json_format
//	kvmrun --max-memory 1024 --method POST --body doc.json --arg compact json_format
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"kvmfilter.io/sdk/kvm"
)

// format returns the document indented or compacted, or why it is not JSON.
func format(doc []byte, how string) ([]byte, error) {
	var out bytes.Buffer
	var err error
	switch how {
	case "compact":
		err = json.Compact(&out, doc)
	case "", "indent":
		err = json.Indent(&out, doc, "", "  ")
	default:
		return nil, fmt.Errorf("unknown argument %q: use indent or compact", how)
	}
	if err != nil {
		return nil, err
	}
	if how != "compact" {
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

func main() {
	if !kvm.Sandboxed() {
		doc, err := io.ReadAll(os.Stdin)
		if err == nil {
			var out []byte
			how := ""
			if len(os.Args) > 1 {
				how = os.Args[1]
			}
			if out, err = format(doc, how); err == nil {
				_, err = os.Stdout.Write(out)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "json_format:", err)
			os.Exit(1)
		}
		return
	}
	for {
		r := kvm.NextRequest()
		out, err := format(r.Body, r.Arg)
		if err != nil {
			kvm.AddHeader("X-Failed: " + err.Error())
			kvm.Respond(400, "text/plain", []byte(err.Error()+"\n"))
		}
		kvm.Respond(200, "application/json", out)
	}
}
