// Tests for HSNoise.
