"""What changed on an ONU, as events: state, presence, rx power, position.

`classify` says what a vendor's state label means (online / offline, and the cause class:
fibre or power); `detect` decides, from the old and new values, which changes are events
(pure); `kinds` names them in Spanish; `store` writes and reads `onu_events`. The inventory
writes (`facho.inventory.writes`) call `detect` and `store` in the execution's transaction,
so an execution that is rolled back leaves no events either. Alerts (issue 13) read them.
"""
