"""The static HTML dashboard: `crm report html`."""
