// Command gorender runs text/template conformance cases with Go's own implementation.
//
// It reads one JSON object per line on stdin:
//
//	{"name": "...", "templates": [["t", "{{.}}"]], "data": ..., "options": ["missingkey=zero"]}
//
// and writes one JSON object per line on stdout: {"name", "output", "error"}. The output
// is whatever was written before an error, as text/template leaves it.
//
// Data decoding mirrors ferroflux-gotmpl's test harness: numbers become int when the
// literal is integral and fits ("numbers=int", the default) or always float64
// ("numbers=float", what Helm's values are after sigs.k8s.io/yaml). Objects with a single
// "$"-prefixed key build typed Go values ("$int64", "$uint64", "$uint8", "$strings",
// "$ints", "$stringmap").
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"
)

type testCase struct {
	Name      string          `json:"name"`
	Templates [][2]string     `json:"templates"`
	Data      json.RawMessage `json:"data"`
	Options   []string        `json:"options"`
}

type result struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	Error  string `json:"error"`
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetEscapeHTML(false)
	for scanner.Scan() {
		var c testCase
		if err := json.Unmarshal(scanner.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "bad case:", err)
			os.Exit(2)
		}
		if err := encoder.Encode(run(c)); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(2)
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(2)
	}
}

func run(c testCase) (r result) {
	r.Name = c.Name
	defer func() {
		if p := recover(); p != nil {
			r.Error = fmt.Sprintf("PANIC: %v", p)
		}
	}()
	floats := false
	execName := ""
	t := template.New(c.Templates[0][0]).Funcs(testFuncs())
	for _, option := range c.Options {
		switch {
		case option == "numbers=float":
			floats = true
		case option == "numbers=int":
			floats = false
		case strings.HasPrefix(option, "exec="):
			execName = strings.TrimPrefix(option, "exec=")
		case strings.HasPrefix(option, "delims="):
			parts := strings.SplitN(strings.TrimPrefix(option, "delims="), ",", 2)
			t.Delims(parts[0], parts[1])
		default:
			t.Option(option)
		}
	}
	for i, named := range c.Templates {
		target := t
		if i > 0 {
			target = t.New(named[0])
		}
		if _, err := target.Parse(named[1]); err != nil {
			r.Error = err.Error()
			return r
		}
	}
	data, err := decode(c.Data, floats)
	if err != nil {
		r.Error = "DATA: " + err.Error()
		return r
	}
	var out strings.Builder
	if execName != "" {
		err = t.ExecuteTemplate(&out, execName, data)
	} else {
		err = t.Execute(&out, data)
	}
	r.Output = out.String()
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func decode(raw json.RawMessage, floats bool) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, err
	}
	return convert(value, floats)
}

func convert(value any, floats bool) (any, error) {
	switch v := value.(type) {
	case json.Number:
		return number(v, floats)
	case []any:
		// A fresh slice keeps cap == len, which the slice built-in can observe.
		out := make([]any, len(v))
		for i := range v {
			converted, err := convert(v[i], floats)
			if err != nil {
				return nil, err
			}
			out[i] = converted
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for key, inner := range v {
				if strings.HasPrefix(key, "$") {
					return typed(key, inner, floats)
				}
			}
		}
		for key := range v {
			converted, err := convert(v[key], floats)
			if err != nil {
				return nil, err
			}
			v[key] = converted
		}
		return v, nil
	}
	return value, nil
}

func number(n json.Number, floats bool) (any, error) {
	text := n.String()
	if !floats && !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return int(i), nil
		}
	}
	return strconv.ParseFloat(text, 64)
}

func typed(key string, inner any, floats bool) (any, error) {
	switch key {
	case "$int64":
		i, err := inner.(json.Number).Int64()
		return i, err
	case "$uint64":
		return strconv.ParseUint(inner.(json.Number).String(), 10, 64)
	case "$uint8":
		u, err := strconv.ParseUint(inner.(json.Number).String(), 10, 8)
		return uint8(u), err
	case "$strings":
		items := inner.([]any)
		out := make([]string, len(items))
		for i, item := range items {
			out[i] = item.(string)
		}
		return out, nil
	case "$ints":
		items := inner.([]any)
		out := make([]int, len(items))
		for i, item := range items {
			n, err := item.(json.Number).Int64()
			if err != nil {
				return nil, err
			}
			out[i] = int(n)
		}
		return out, nil
	case "$stringmap":
		out := map[string]string{}
		for k, item := range inner.(map[string]any) {
			out[k] = item.(string)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown typed value %s", key)
}

// testFuncs are mirrored by the Rust harness (tests/support/funcs.rs).
func testFuncs() template.FuncMap {
	return template.FuncMap{
		"fail": func(message string) (string, error) {
			return "", errors.New("boom: " + message)
		},
		"echo":   func(args ...any) []any { return args },
		"typeOf": func(v any) string { return fmt.Sprintf("%T", v) },
		"seq": func(n int) []int {
			out := make([]int, 0, n)
			for i := 0; i < n; i++ {
				out = append(out, i)
			}
			return out
		},
		"dict": func(pairs ...any) map[string]any {
			out := map[string]any{}
			for i := 0; i+1 < len(pairs); i += 2 {
				out[fmt.Sprint(pairs[i])] = pairs[i+1]
			}
			return out
		},
		"strs":  func(items ...string) []string { return items },
		"nilfn": func() any { return nil },
		"add":   func(a, b int) int { return a + b },
	}
}
