package migrate

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// jwtClaims decodes the payload of a JWT without verifying its signature.
// The claims only name the account (email, account id, plan) and date the
// token; nothing about access is decided from them. The payload goes
// through the same bounded decoder as the files.
func jwtClaims(token string) (object, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, reason(ErrInvalidValue, "not a JWT")
	}
	// JWTs use unpadded base64url; some encoders pad anyway.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, reason(ErrInvalidValue, "not a JWT: payload is not base64url")
	}
	v, _, err := decodeJSON(payload)
	if err != nil {
		return nil, reason(ErrInvalidValue, "not a JWT: payload is not JSON")
	}
	claims, ok := v.(object)
	if !ok {
		return nil, reason(ErrInvalidValue, "not a JWT: payload is not a JSON object")
	}
	return claims, nil
}

// claimText returns a string claim, or "" when it is absent, not a string
// or not fit for a label or Meta value.
func claimText(claims object, key string) string {
	v := claims[key]
	s, ok := v.(string)
	if !ok || checkText(s, true) != nil {
		return ""
	}
	return s
}

// claimObject returns a nested claims object, or nil.
func claimObject(claims object, key string) object {
	v := claims[key]
	o, _ := v.(object)
	return o
}

// claimTime returns a NumericDate claim (seconds, possibly fractional), or
// the zero time when it is absent or unusable.
func claimTime(claims object, key string) time.Time {
	v := claims[key]
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	const maxSeconds = 253402300799 // 9999-12-31T23:59:59Z
	if err != nil || f <= 0 || f > maxSeconds || math.IsNaN(f) {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}
