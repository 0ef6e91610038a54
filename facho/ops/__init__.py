"""Operating Facho: the `flask facho` CLI, status figures shared by CLI, dashboard and
/healthz, retention, the demo, the simulated OLT and the graceful worker restart."""
