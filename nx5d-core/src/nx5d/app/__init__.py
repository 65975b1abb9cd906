"""The application layer, built on the model: command line, batch cooking, plots, the plugin scaffold."""
