"""``giftdesk fampage``: the provider's services catalogue, balance and the call log."""

from __future__ import annotations

from giftdesk.cli.framework import Fields, Output, Table, arg
from giftdesk.cli.groups._fampage_args import company_id


def register(cli) -> None:
    fampage = cli.group("fampage", "the Fampage SMM panel: services, balance, call log")

    @fampage.command("services", "list Fampage's services (cached; refreshed when older than a day)",
                     arg("--network", help="only this network (TikTok, Instagram, …)"),
                     arg("--search", help="match name, category, type or id"),
                     arg("--refresh", action="store_true", help="ask Fampage now"),
                     arg("--cached", action="store_true", help="never ask Fampage, use the cache"),
                     arg("--networks", action="store_true", help="list the networks with their service counts"))
    def services(desk, args):
        if args.refresh:
            desk.fampage.refresh_services()
        elif not args.cached:
            desk.fampage.ensure_catalogue()
        if args.networks:
            counts = desk.fampage.networks()
            return Output([{"network": n, "services": c} for n, c in counts.items()],
                          Table(["NETWORK", "SERVICES"], list(counts.items())))
        rows = desk.fampage.services(network=args.network, search=args.search)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "NETWORK", "NAME", "TYPE", "RATE/1000", "MIN", "MAX", "REFILL", "CANCEL", "DRIP"],
            [(r.id, r.network, r.name[:60], r.type, f"{r.rate} {r.currency}", f"{r.min:,}", f"{r.max:,}", r.refill, r.cancel,
              r.dripfeed) for r in rows]))

    @fampage.command("rates", "a service's rate history (a row each time a refresh saw it change)",
                     arg("service", type=int, help="Fampage service id"))
    def rates(desk, args):
        service = desk.fampage.service(args.service)
        history = desk.fampage.rate_history(args.service)
        return Output({"service": service.to_json(),
                       "rates": [{"seenAt": at.isoformat(), "ratePer1000": str(rate)} for at, rate in history]},
                      [f"{service.name} (#{service.id}, {service.currency} per 1000)",
                       Table(["SEEN", "RATE/1000"], [(at, rate) for at, rate in history])])

    @fampage.command("service-description", "what clients read on invoices for a service (empty: the clean name)",
                     arg("service", type=int, help="Fampage service id"), arg("text", help="the description"))
    def service_description(desk, args):
        row = desk.fampage.set_client_description(args.service, args.text)
        return Output(row.to_json(), Fields([("Service", f"{row.name} (#{row.id})"),
                                             ("Client description", row.client_description)]))

    @fampage.command("balance", "the Fampage account balance")
    def balance(desk, args):
        row = desk.fampage.balance()
        text = [Fields([("Balance", f"{row.amount} {row.currency}"),
                        ("Low-balance threshold", f"{row.threshold} {row.currency}")])]
        if row.low:
            text.append(f"Warning: the balance is below {row.threshold} {row.currency}; top up before ordering.")
        return Output(row.to_json(), text)

    @fampage.command("log", "the integration log: every call to Fampage",
                     arg("--action", help="only this action (add, status, balance, services, refill, cancel)"),
                     arg("--failed", action="store_true", help="only failed calls"),
                     arg("--search", help="match parameters, result or error"),
                     arg("--company", help="only calls made for this company (id or name)"),
                     arg("--limit", type=int, default=50, help="how many (newest first, default 50)"))
    def log(desk, args):
        rows = desk.fampage.calls(action=args.action, ok=False if args.failed else None, search=args.search,
                                  limit=max(1, min(args.limit, 10_000)),
                                  company_id=company_id(desk, args.company) if args.company else None)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "AT", "ACTION", "PARAMS", "HTTP", "MS", "OK", "ERROR"],
            [(r.id, r.at, r.action, ", ".join(f"{k}={v}" for k, v in r.params.items())[:60], r.http_status,
              r.duration_ms, r.ok, r.error) for r in rows]))
