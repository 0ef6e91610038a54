"""Facho: SNMP jobs for GPON OLTs, run exactly on their schedule."""
