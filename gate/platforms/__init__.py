"""Publishing the result where people look: one module per CI platform (`github`, `gitlab`), the
interface they share (`interface`), and the choice among them (`select`)."""
