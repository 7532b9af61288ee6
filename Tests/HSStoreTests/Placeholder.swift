// Tests for HSStore.
