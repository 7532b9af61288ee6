// Tests for HSHTTP.
