package plugins

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in      any
		want    time.Duration
		wantErr string // "" : no error
	}{
		// HumanDuration objects
		{map[string]any{"minutes": 30}, 30 * time.Minute, ""},
		{map[string]any{"hours": 1, "minutes": 30}, 90 * time.Minute, ""},
		{map[string]any{"hours": 1, "seconds": 1.5}, time.Hour + 1500*time.Millisecond, ""},
		{map[string]any{"milliseconds": 250}, 250 * time.Millisecond, ""},
		{map[string]any{"days": 1, "weeks": 1}, 8 * day, ""},
		{map[string]any{"months": 1, "years": 1}, 395 * day, ""},
		{map[string]any{"minutes": int64(2)}, 2 * time.Minute, ""},
		{map[string]any{"minutes": uint64(2)}, 2 * time.Minute, ""},
		{map[string]any{"minutes": 0}, 0, ""},
		{map[string]any{"minutez": 3}, 0, `unknown duration unit "minutez" (use milliseconds, seconds, minutes, hours, days, weeks, months or years)`},
		{map[string]any{"fortnights": 1}, 0, `unknown duration unit "fortnights"`},
		{map[string]any{"minutes": "3"}, 0, "duration minutes must be a number, got 3"},
		{map[string]any{"minutes": math.NaN()}, 0, "duration minutes must be a number"},
		{map[string]any{"minutes": -1}, 0, "duration minutes must not be negative"},
		{map[string]any{"years": 300}, 0, "the duration is too long (292 years at most)"},
		{map[string]any{"cron": "* * * * *"}, 0, "cron schedules are not supported; use a duration such as {minutes: 30}"},
		{map[string]any{"trigger": "manual"}, 0, "manual triggers are not supported; use a duration such as {minutes: 30}"},
		{map[string]any{}, 0, "an empty object is not a duration; give a unit, such as {minutes: 30}"},
		// two mistakes: the first key in order is reported, every time
		{map[string]any{"b": 1, "a": 1}, 0, `unknown duration unit "a"`},

		// ISO 8601
		{"PT30M", 30 * time.Minute, ""},
		{"P1DT2H", 26 * time.Hour, ""},
		{"P1W", 7 * day, ""},
		{"P1Y2M", 425 * day, ""},
		{"PT0.5S", 500 * time.Millisecond, ""},
		{"PT1H30M", 90 * time.Minute, ""},
		{"P1D", day, ""},
		{"pt5m", 5 * time.Minute, ""},
		{" PT5M ", 5 * time.Minute, ""},
		{"PT0M", 0, ""},
		{"P", 0, `"P" is not an ISO 8601 duration (such as PT30M or P1D)`},
		{"PT", 0, `"PT" is not an ISO 8601 duration`},
		{"P1DT", 0, `"P1DT" is not an ISO 8601 duration`},
		{"PT5X", 0, `"PT5X" is not an ISO 8601 duration`},
		{"P-1D", 0, `"P-1D" is not an ISO 8601 duration`},
		{"P1000Y", 0, "the duration is too long"},

		// Go durations
		{"30m", 30 * time.Minute, ""},
		{"1h15m", 75 * time.Minute, ""},
		{"45s", 45 * time.Second, ""},
		{"90s", 90 * time.Second, ""},
		{"0s", 0, ""},
		{"-5m", 0, `"-5m": a duration must not be negative`},
		{"soon", 0, `"soon" is not a duration (such as PT30M, 30m or {minutes: 30})`},
		{"", 0, `"" is not a duration`},

		// other types
		{12, 0, "expected a duration such as {minutes: 30}, PT30M or 30m, got 12"},
		{true, 0, "got true"},
		{[]any{}, 0, "got []"},
		{nil, 0, "got <nil>"},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ParseDuration(%#v) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != 0):
			t.Errorf("ParseDuration(%#v) = %v, %v; want the error %q", tc.in, got, err, tc.wantErr)
		}
	}
}

func TestScheduleConfigParse(t *testing.T) {
	const path = "catalog.providers.x.main.schedule"
	tests := []struct {
		name    string
		in      ScheduleConfig
		want    Schedule
		wantErr string
	}{
		{"all fields", ScheduleConfig{Frequency: map[string]any{"minutes": 30}, Timeout: "PT3M", InitialDelay: "15s", Scope: "global"},
			Schedule{Frequency: 30 * time.Minute, Timeout: 3 * time.Minute, InitialDelay: 15 * time.Second, Scope: "global"}, ""},
		{"frequency only", ScheduleConfig{Frequency: "PT2H"}, Schedule{Frequency: 2 * time.Hour}, ""},
		{"zero timeout and delay", ScheduleConfig{Frequency: "1h", Timeout: "0s", InitialDelay: map[string]any{"seconds": 0}, Scope: "local"},
			Schedule{Frequency: time.Hour, Scope: "local"}, ""},
		{"no frequency", ScheduleConfig{Timeout: "PT3M"}, Schedule{},
			"config catalog.providers.x.main.schedule.frequency is required (such as {minutes: 30})"},
		{"zero frequency", ScheduleConfig{Frequency: "PT0M"}, Schedule{},
			"config catalog.providers.x.main.schedule.frequency: must be positive"},
		{"unknown unit", ScheduleConfig{Frequency: map[string]any{"minutez": 3}}, Schedule{},
			`config catalog.providers.x.main.schedule.frequency: unknown duration unit "minutez"`},
		{"cron", ScheduleConfig{Frequency: map[string]any{"cron": "* * * * *"}}, Schedule{},
			"config catalog.providers.x.main.schedule.frequency: cron schedules are not supported"},
		{"manual trigger", ScheduleConfig{Frequency: map[string]any{"trigger": "manual"}}, Schedule{},
			"config catalog.providers.x.main.schedule.frequency: manual triggers are not supported"},
		{"bad timeout", ScheduleConfig{Frequency: "PT1M", Timeout: "later"}, Schedule{},
			`config catalog.providers.x.main.schedule.timeout: "later" is not a duration`},
		{"bad initialDelay", ScheduleConfig{Frequency: "PT1M", InitialDelay: -3}, Schedule{},
			"config catalog.providers.x.main.schedule.initialDelay: expected a duration"},
		{"bad scope", ScheduleConfig{Frequency: "PT1M", Scope: "everywhere"}, Schedule{},
			`config catalog.providers.x.main.schedule.scope: "everywhere" is not global or local`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Parse(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestScheduleConfigStrict checks what the embedding plugins rely on: a
// misspelt schedule key is refused by DecodeValue, naming the key.
func TestScheduleConfigStrict(t *testing.T) {
	var out struct {
		Schedule *ScheduleConfig `yaml:"schedule"`
	}
	err := DecodeValue("catalog.providers.x.main", map[string]any{"schedule": map[string]any{"frequncy": "PT1M"}}, &out)
	if err == nil || !strings.Contains(err.Error(), "field frequncy not found") {
		t.Fatalf("err = %v", err)
	}
	if err := DecodeValue("p", map[string]any{"schedule": map[string]any{"frequency": map[string]any{"minutes": 5}}}, &out); err != nil {
		t.Fatal(err)
	}
	if s, err := out.Schedule.Parse("p.schedule"); err != nil || s.Frequency != 5*time.Minute {
		t.Fatalf("decoded schedule = %+v, %v", s, err)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT30M", "P1Y2M3W4DT5H6M7.5S", "30m", "P", "-1s", "P99999999999999999999Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
		if err != nil && d != 0 {
			t.Fatalf("ParseDuration(%q) = %v with error %v", s, d, err)
		}
	})
}
