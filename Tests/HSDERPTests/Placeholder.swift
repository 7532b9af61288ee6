// Tests for HSDERP.
