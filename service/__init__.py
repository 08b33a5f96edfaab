"""The thin HTTP and command-line layer around the decision engine.

Flask only parses, calls the engine, logs the decision durably and serialises
(DESIGN.md lesson 7); everything legal lives in `engine/`, `policies/` and
`adequacy_data/`.
"""
