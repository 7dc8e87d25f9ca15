"""MediaPipe wrappers that turn RGB frames into typed landmarks in pixels."""
