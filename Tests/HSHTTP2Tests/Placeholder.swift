// Tests for HSHTTP2.
