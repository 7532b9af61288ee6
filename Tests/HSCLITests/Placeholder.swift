// Tests for HSCLI.
