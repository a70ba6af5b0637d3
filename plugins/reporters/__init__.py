"""Report renderers, each registered through `harness_register_reporters`."""
