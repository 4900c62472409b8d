"""The redirector: TLS for branded domains, short-link redirects, click events."""
