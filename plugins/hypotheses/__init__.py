"""The hypotheses of spec section 8 (8.1 from the debug plan, 8.2 added by the spec), one module each."""
