"""The portal (门户): agency stewards, the coordinating office and analysts in a browser, in Simplified Chinese.

The third adapter beside the CLI and Dagster: every page calls the same services (`govhub.services`) and capabilities
the CLI does, and holds no business rule itself. `app.create_app(settings)` builds the Litestar application;
`govhub portal` serves it with uvicorn. See docs/ARCHITECTURE.md, "Portal".
"""
