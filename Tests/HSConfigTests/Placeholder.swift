// Tests for HSConfig.
