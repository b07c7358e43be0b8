"""System operator robot, forecaster inputs, device fleet and the demo scenario."""
