package kafka

import (
	"errors"
	"testing"
)

// TestSCRAMSHA256Vector runs the example exchange of RFC 7677 section 3.
func TestSCRAMSHA256Vector(t *testing.T) {
	s := newSCRAM(sha256Hash)
	s.nonce = func() (string, error) { return "rOprNGfwEbeRWgbNEkqO", nil }
	if err := s.Begin("user", "pencil", ""); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ in, want string }{
		{"", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"},
		{"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="},
		{"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", ""},
	}
	for i, st := range steps {
		got, err := s.Step(st.in)
		if err != nil || got != st.want {
			t.Fatalf("step %d: %q, %v; want %q", i, got, err, st.want)
		}
	}
	if !s.Done() {
		t.Fatal("exchange not done")
	}
}

func TestSCRAMRejects(t *testing.T) {
	start := func() *scram {
		s := newSCRAM(sha512Hash)
		s.nonce = func() (string, error) { return "abc", nil }
		if err := s.Begin("u,=x", "p", ""); err != nil {
			t.Fatal(err)
		}
		first, err := s.Step("")
		if err != nil || first != "n,,n=u=2C=3Dx,r=abc" {
			t.Fatalf("client first %q, %v", first, err)
		}
		return s
	}
	for name, serverFirst := range map[string]string{
		"foreign nonce": "r=xyz123,s=c2FsdA==,i=4096",
		"bare nonce":    "r=abc,s=c2FsdA==,i=4096",
		"bad salt":      "r=abcdef,s=!!,i=4096",
		"bad count":     "r=abcdef,s=c2FsdA==,i=0",
	} {
		if _, err := start().Step(serverFirst); !errors.Is(err, ErrSCRAM) {
			t.Errorf("%s: %v, want ErrSCRAM", name, err)
		}
	}
	s := start()
	if _, err := s.Step("r=abcdef,s=c2FsdA==,i=16"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step("v=AAAA"); !errors.Is(err, ErrSCRAM) || s.Done() {
		t.Errorf("forged server signature: %v, done %v", err, s.Done())
	}
	s = start()
	_, _ = s.Step("r=abcdef,s=c2FsdA==,i=16")
	if _, err := s.Step("e=invalid-proof"); !errors.Is(err, ErrSCRAM) {
		t.Errorf("server error: %v", err)
	}
}
