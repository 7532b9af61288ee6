// Tests for HSControl.
