// Package sdktest checks authvault's transport with the official provider
// SDKs as its clients. It is a module of its own so that the SDKs, which
// only these tests need, stay out of authvault's go.mod.
package sdktest
