package lazyregexp

import "testing"

func TestCompiledOnFirstUseOnly(t *testing.T) {
	re := New(`^a(b+)$`)
	if !re.MatchString("abb") || re.MatchString("ac") {
		t.Error("MatchString")
	}
	if m := re.FindStringSubmatch("abbb"); len(m) != 2 || m[1] != "bbb" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	first := re.Regexp()
	if second := re.Regexp(); first != second {
		t.Error("compiled twice")
	}
	if got := New(`b+`).ReplaceAllString("abbcb", "-"); got != "a-c-" {
		t.Errorf("ReplaceAllString = %q", got)
	}
	if got := New(`x(\d)`).FindAllStringSubmatch("x1 x2", -1); len(got) != 2 || got[1][1] != "2" {
		t.Errorf("FindAllStringSubmatch = %q", got)
	}
	if got := New(`\d+`).FindString("ab12c"); got != "12" {
		t.Errorf("FindString = %q", got)
	}
}

func TestInvalidPanicsOnUse(t *testing.T) {
	re := New(`(`) // declaring it is fine
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression did not panic when used")
		}
	}()
	re.MatchString("x")
}
