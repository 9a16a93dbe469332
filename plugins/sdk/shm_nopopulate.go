//go:build unix && !linux

package sdk

const mapPopulate = 0
