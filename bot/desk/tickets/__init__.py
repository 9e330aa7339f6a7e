"""Requests for evidence as tickets: intake, the state machine, routing, escalation, reports.

`service.TicketService` is the front door; `routing.RoutingService` administers who serves
which channel. Neither knows any chat platform: adapters pass ids and text in and get frozen
views back. Import from the submodules; this package imports nothing, so the database layer
can be loaded without the services.
"""
