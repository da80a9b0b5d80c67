package expr

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// knownGaps lists oracle results this engine does not reproduce yet, keyed
// by "<case id>/<mode>". Every other case must match nunjitsu exactly.
var knownGaps = map[string]string{}

type oracleResult struct {
	OK        bool `json:"ok"`
	Undefined bool `json:"undefined"`
	Result    json.RawMessage
	Error     *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

type oracleCase struct {
	id, template string
	context      *Object
	options      *Object
}

func loadCases(t *testing.T, name string) []oracleCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []oracleCase
	for _, e := range v.([]any) {
		o := e.(*Object)
		c := oracleCase{id: getOr(o, "id").(string), template: getOr(o, "template").(string)}
		c.context, _ = getOr(o, "context").(*Object)
		c.options, _ = getOr(o, "options").(*Object)
		out = append(out, c)
	}
	return out
}

func optionsFor(c oracleCase, mode string) Options {
	o := Options{StepStatus: mode == "value"}
	if c.options == nil {
		return o
	}
	o.CookiecutterCompat = truthy(getOr(c.options, "cookiecutterCompat"))
	o.TrimBlocks = truthy(getOr(c.options, "trimBlocks"))
	o.LstripBlocks = truthy(getOr(c.options, "lstripBlocks"))
	if integ, ok := getOr(c.options, "integrations").(*Object); ok {
		o.Integrations = map[string]string{}
		for _, typ := range integ.Keys() {
			list, _ := getOr(integ, typ).([]any)
			for _, e := range list {
				if eo, ok := e.(*Object); ok {
					o.Integrations[jsString(getOr(eo, "host"))] = typ
				}
			}
		}
	}
	return o
}

// check compares one rendering with the oracle; returns a description of the difference or "".
func check(c oracleCase, mode string, want oracleResult) string {
	opts := optionsFor(c, mode)
	var got any
	var err error
	if mode == "value" {
		got, err = opts.RenderValue(c.template, c.context)
	} else {
		got, err = opts.RenderString(c.template, c.context)
	}
	if !want.OK {
		if err == nil {
			return "want error " + want.Error.Message + ", got " + jsString(got)
		}
		if err.Error() != want.Error.Message {
			return "error text: want " + want.Error.Message + "\n got " + err.Error()
		}
		return ""
	}
	if err != nil {
		return "unexpected error: " + err.Error()
	}
	if want.Undefined {
		if !IsUndefined(got) {
			s, _ := ToJSON(got)
			return "want undefined, got " + s
		}
		return ""
	}
	if mode == "string" {
		var ws string
		if e := json.Unmarshal(want.Result, &ws); e != nil {
			return "bad oracle result"
		}
		if got != ws {
			return "want " + jsonString(ws) + "\n got " + jsonString(got.(string))
		}
		return ""
	}
	wv, e := DecodeJSON(want.Result)
	if e != nil {
		return "bad oracle result"
	}
	ws, _ := ToJSON(wv)
	gs, ok := ToJSON(got)
	if !ok || gs != ws {
		return "want " + ws + "\n got " + gs
	}
	return ""
}

func runOracle(t *testing.T, c oracleCase, mode string, want oracleResult, pass *int) {
	key := c.id + "/" + mode
	t.Run(key, func(t *testing.T) {
		diff := check(c, mode, want)
		if reason, gap := knownGaps[key]; gap {
			if diff == "" {
				t.Logf("known gap %s now passes (%s): remove it from knownGaps", key, reason)
			} else {
				t.Skipf("known gap: %s", reason)
			}
			return
		}
		if diff != "" {
			t.Errorf("template %q\n%s", c.template, diff)
			return
		}
		*pass++
	})
}

func TestOracleCases(t *testing.T) {
	cases := loadCases(t, "template-cases.json")
	byID := map[string]oracleCase{}
	for _, c := range cases {
		byID[c.id] = c
	}
	f, err := os.Open(filepath.Join("testdata", "template-cases.rendered.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	pass, total := 0, 0
	for sc.Scan() {
		var line struct {
			ID     string `json:"id"`
			String *struct {
				Nunjitsu oracleResult `json:"nunjitsu"`
			} `json:"string"`
			Value *struct {
				Nunjitsu oracleResult `json:"nunjitsu"`
			} `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		c, ok := byID[line.ID]
		if !ok {
			t.Fatalf("no case %s", line.ID)
		}
		if line.String != nil {
			total++
			runOracle(t, c, "string", line.String.Nunjitsu, &pass)
		}
		if line.Value != nil {
			total++
			runOracle(t, c, "value", line.Value.Nunjitsu, &pass)
		}
	}
	t.Logf("template cases: %d/%d renderings match nunjitsu", pass, total)
}

func TestOracleProbes(t *testing.T) {
	cases := loadCases(t, "template-probes.json")
	pass, total := 0, 0
	for _, mode := range []string{"string", "value"} {
		data, err := os.ReadFile(filepath.Join("testdata", "template-probes.rendered."+mode+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]oracleResult{}
		for _, l := range splitLines(data) {
			var r struct {
				ID string `json:"id"`
				oracleResult
			}
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatal(err)
			}
			want[r.ID] = r.oracleResult
		}
		for _, c := range cases {
			w, ok := want[c.id]
			if !ok {
				continue // the oracle has no rendering of this probe in this mode
			}
			total++
			runOracle(t, c, mode, w, &pass)
		}
	}
	t.Logf("probes: %d/%d renderings match nunjitsu", pass, total)
}

func splitLines(data []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, b := range data {
		if b == '\n' {
			if i > start {
				out = append(out, data[start:i])
			}
			start = i + 1
		}
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}
