import HSCLI

// The `headscale` binary: every command lives in HSCLI.
print("headscale")
