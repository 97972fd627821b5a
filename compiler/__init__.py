"""hks: a declarative GitOps compiler for an organisation's LLM configuration."""

__version__ = "0.1.0"
