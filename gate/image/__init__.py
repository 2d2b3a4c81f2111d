"""What the gate knows about the image itself: where it is, its config, layers, history and base image.

`resolve.resolve_image` is the entry point: it finds the image (engine, archive or registry),
reads its config (never its layers) and says which layers belong to the base image;
`layers.attribute_layers` then gives each finding of a scan its layer. The other modules are the
sources (`archive`, `engine`, `registry` with `registry_auth`), the formats they read
(`reference`, `manifest`, `config`, `dockerfile`) and what they hand back (`source`).
"""
