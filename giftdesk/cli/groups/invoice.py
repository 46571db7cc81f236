"""``giftdesk invoice``: invoices and credit notes — issue, pay, void, PDFs."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm
from giftdesk.cli.groups._fampage_args import company_id, month
from giftdesk.core.errors import ValidationError
from giftdesk.core.wording import counted
from giftdesk.fampage.operations import VOID_INVOICE
from giftdesk.fampage.money import round_money


def _fields(i) -> list:
    head = Fields([("ID", i.id), ("Number", i.number or "draft (not issued)"),
                   ("Kind", "credit note" if i.kind == "credit_note" else "invoice"),
                   ("Company", f"{i.company_name} (#{i.company_id})"), ("Order", i.order_id),
                   ("Status", i.display_status), ("Issued", i.issue_date), ("Due", i.due_date),
                   ("Subtotal", i.subtotal), (f"{i.tax_label or 'Tax'} ({i.tax_rate}%)", i.tax),
                   ("Total", f"{i.total} {i.currency}"), ("Credited", i.credited or None),
                   ("Balance due", i.balance_due if i.kind == "invoice" else None)])
    lines = Table(["#", "DESCRIPTION", "LINK", "QTY", "UNIT PRICE", "AMOUNT"],
                  [(l.position, l.description[:60], (l.link or "")[:40], l.quantity,
                    f"{round_money(l.unit_price, i.currency)}/{l.per}" if l.per != 1
                    else round_money(l.unit_price, i.currency),
                    l.amount) for l in i.lines])
    return [head, lines]


def _write(path: Path, write) -> None:
    try:
        write(path)
    except OSError as exc:
        raise ValidationError(f"Cannot write {path}: {exc.strerror}.", field="output") from None


def register(cli) -> None:
    invoice = cli.group("invoice", "invoices and credit notes for Fampage orders")

    @invoice.command("list", "list invoices and credit notes",
                     arg("--company"), arg("--status", choices=("draft", "sent", "paid", "void", "overdue")),
                     arg("--month", help="issued in this month, e.g. 2026-11"),
                     arg("--credit-notes", action="store_true", help="only credit notes"))
    def list_(desk, args):
        year, mon = month(args.month) if args.month else (None, None)
        rows = desk.invoices.list(company_id(desk, args.company) if args.company else None, args.status,
                                  "credit_note" if args.credit_notes else None, year, mon)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "NUMBER", "KIND", "COMPANY", "STATUS", "TOTAL", "ISSUED", "DUE"],
            [(r.id, r.number or "draft", "credit" if r.kind == "credit_note" else "invoice", r.company_name,
              r.display_status, f"{r.total} {r.currency}", r.issue_date, r.due_date) for r in rows]))

    @invoice.command("show", "an invoice with its lines", arg("invoice", type=int))
    def show(desk, args):
        row = desk.invoices.get(args.invoice)
        return Output(row.to_json(), _fields(row))

    @invoice.command("create", "a draft invoice for a placed order that has none standing (e.g. after a void)",
                     arg("--order", type=int, required=True, help="the order's id"))
    def create(desk, args):
        row = desk.invoices.create_for_order(args.order)
        return Output(row.to_json(), _fields(row))

    @invoice.command("issue", "give a draft its number and send it (its credit notes too)",
                     arg("invoice", type=int), arg("--due-days", type=int, help="default: Settings' invoice.due_days"),
                     arg("--tax-rate", help="percent, set on the draft before issuing"), arg("--tax-label"))
    def issue(desk, args):
        if args.due_days is not None and args.due_days < 0:
            raise ValidationError("--due-days must be zero or more.", field="due_days")
        if args.tax_rate is not None:
            desk.invoices.set_tax(args.invoice, args.tax_rate, args.tax_label)
        row = desk.invoices.issue(args.invoice, args.due_days)
        return Output(row.to_json(), _fields(row))

    @invoice.command("line-description", "reword a draft invoice's line (what the client reads)",
                     arg("invoice", type=int), arg("line", type=int, help="line number, from 1"), arg("text"))
    def line_description(desk, args):
        row = desk.invoices.set_line_description(args.invoice, args.line, args.text)
        return Output(row.to_json(), _fields(row))

    @invoice.command("pay", "mark a sent invoice paid", arg("invoice", type=int))
    def pay(desk, args):
        row = desk.invoices.pay(args.invoice)
        return Output(row.to_json(), f"{row.number} is paid.")

    @invoice.command("void", "void an invoice (it keeps its number)", arg("invoice", type=int), YES)
    def void(desk, args):
        current = desk.invoices.get(args.invoice)
        confirm(args, VOID_INVOICE.confirmation(label=current.label))
        row = desk.invoices.void(args.invoice)
        return Output(row.to_json(), f"{row.label} is void.")

    @invoice.command("pdf", "write an invoice or credit note as PDF", arg("invoice", type=int),
                     arg("-o", "--output", type=Path, required=True, help="the PDF file to write"))
    def pdf(desk, args):
        row = desk.invoices.get(args.invoice)
        _write(args.output, lambda p: desk.invoice_documents.pdf(row.id, p))
        return Output({"invoiceId": row.id, "number": row.number, "file": str(args.output)},
                      f"Wrote {row.label} to {args.output}.")

    @invoice.command("zip", "a month's issued invoices and credit notes as one ZIP of PDFs",
                     arg("month", help="e.g. 2026-11"), arg("-o", "--output", type=Path, required=True))
    def zip_(desk, args):
        year, mon = month(args.month)
        names: list[str] = []
        _write(args.output, lambda p: names.extend(desk.invoice_documents.month_zip(year, mon, p)))
        return Output({"file": str(args.output), "documents": names},
                      f"Wrote {counted(len(names), 'document')} to {args.output}.")
