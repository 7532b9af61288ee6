// Tests for HSCrypto.
