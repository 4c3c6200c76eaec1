package kafka

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ErrSCRAM is returned when a SCRAM exchange fails: a malformed server
// message, a nonce the client did not start, a server error, or a server
// signature that does not verify (the server does not know the password).
var ErrSCRAM = errors.New("kafka: SCRAM authentication failed")

func sha256Hash() hash.Hash { return sha256.New() }
func sha512Hash() hash.Hash { return sha512.New() }

// scram is the client side of SCRAM (RFC 5802, with the SHA-256 and SHA-512
// hashes Kafka offers), as sarama's SCRAMClient: Begin, then Step until
// Done. No channel binding ("n,,"). Passwords are used as given, without
// SASLprep normalisation, which only matters for non-ASCII passwords.
type scram struct {
	h     func() hash.Hash
	nonce func() (string, error)

	user, password, authz string
	clientNonce           string
	clientFirstBare       string
	serverSignature       []byte
	step                  int
}

func newSCRAM(h func() hash.Hash) *scram { return &scram{h: h, nonce: randomNonce} }

func randomNonce() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// Begin starts an exchange for user.
func (s *scram) Begin(user, password, authzID string) error {
	n, err := s.nonce()
	if err != nil {
		return fmt.Errorf("%w: nonce: %v", ErrSCRAM, err)
	}
	*s = scram{h: s.h, nonce: s.nonce, user: user, password: password, authz: authzID, clientNonce: n}
	return nil
}

// Done reports whether the server's signature has been verified.
func (s *scram) Done() bool { return s.step == 3 }

// Step answers the server's last message (empty for the first step).
func (s *scram) Step(challenge string) (string, error) {
	switch s.step {
	case 0:
		s.step = 1
		s.clientFirstBare = "n=" + saslName(s.user) + ",r=" + s.clientNonce
		return s.gs2Header() + s.clientFirstBare, nil
	case 1:
		s.step = 2
		return s.clientFinal(challenge)
	case 2:
		attrs := scramAttrs(challenge)
		if e, ok := attrs["e"]; ok {
			return "", fmt.Errorf("%w: server says %s", ErrSCRAM, e)
		}
		v, err := base64.StdEncoding.DecodeString(attrs["v"])
		if err != nil || !hmac.Equal(v, s.serverSignature) {
			return "", fmt.Errorf("%w: server signature does not verify", ErrSCRAM)
		}
		s.step = 3
		return "", nil
	}
	return "", fmt.Errorf("%w: step after the exchange ended", ErrSCRAM)
}

func (s *scram) gs2Header() string {
	if s.authz == "" {
		return "n,,"
	}
	return "n,a=" + saslName(s.authz) + ","
}

// clientFinal computes the proof from the server-first message.
func (s *scram) clientFinal(serverFirst string) (string, error) {
	attrs := scramAttrs(serverFirst)
	nonce, salt64, iters := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, s.clientNonce) || len(nonce) == len(s.clientNonce) {
		return "", fmt.Errorf("%w: server nonce does not extend the client's", ErrSCRAM)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return "", fmt.Errorf("%w: bad salt %q", ErrSCRAM, salt64)
	}
	n, err := strconv.Atoi(iters)
	if err != nil || n < 1 {
		return "", fmt.Errorf("%w: bad iteration count %q", ErrSCRAM, iters)
	}
	salted, err := pbkdf2.Key(s.h, s.password, salt, n, s.h().Size())
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSCRAM, err)
	}
	clientKey := s.hmac(salted, "Client Key")
	sum := s.h()
	sum.Write(clientKey)
	storedKey := sum.Sum(nil)
	finalNoProof := "c=" + base64.StdEncoding.EncodeToString([]byte(s.gs2Header())) + ",r=" + nonce
	authMessage := s.clientFirstBare + "," + serverFirst + "," + finalNoProof
	proof := s.hmac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSignature = s.hmac(s.hmac(salted, "Server Key"), authMessage)
	return finalNoProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (s *scram) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramAttrs splits "k=v,k=v" (values may contain '=').
func scramAttrs(msg string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(msg, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// saslName escapes ',' and '=' in a user name (RFC 5802 section 5.1).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
