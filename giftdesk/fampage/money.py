"""Money rules for orders and invoices: exact ``Decimal`` throughout, one rounding per amount.

- Provider cost = rate × quantity / 1000 (× runs for drip-feed); a Package's rate is the pack's
  price. Never rounded: it is what the provider's own arithmetic gives.
- Invoice line = unit price × quantity / per, where unit price = rate × multiplier at full
  precision; rounded once, half-up, to the currency's minor unit (₹1.87… × 8 is rounded after
  multiplying, never before).
- Tax = subtotal × rate / 100, rounded once, half-up. Total = subtotal + tax.
- Refund (provider) = charge × remains / quantity; credit note line = line's exact amount ×
  remains / quantity, rounded once — so a full cancel credits exactly the line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

PACKAGE_TYPES = ("Package", "Package Regular")
UNIT_SCALE = 10 ** 8  # analytics units: integers of 10⁻⁸
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "KWD": 3, "BHD": 3, "OMR": 3}
CURRENCY_SIGNS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "RUB": "₽", "TRY": "₺",
                  "UAH": "₴", "KRW": "₩", "NGN": "₦", "PHP": "₱", "VND": "₫", "ILS": "₪"}

def _context():
    """Full precision (50 digits) so chained multiplications never round silently."""
    return localcontext(prec=50)


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_MINOR_DIGITS.get(currency.upper(), 2))


def round_money(value: Decimal, currency: str) -> Decimal:
    """The one rounding of an amount to the currency's minor unit, half-up (away from zero at a tie).
    Everything shown or exported goes through it; exact values stay exact inside."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def shown_profit(revenue: Decimal, cost: Decimal, currency: str) -> Decimal:
    """The profit people see: shown revenue − shown cost, so the figures on screen add up.

    Revenue is invoiced in minor units already; rounding the exact profit on its own could differ
    from that difference by one minor unit when the cost ends on exactly half of one (revenue 1.00,
    cost 0.005: 1.00 − 0.01 = 0.99, but 0.995 rounds to 1.00)."""
    return round_money(revenue, currency) - round_money(cost, currency)


def is_package(service_type: str) -> bool:
    return service_type in PACKAGE_TYPES


def provider_cost(rate: Decimal, quantity: int, service_type: str, runs: int | None = None) -> Decimal:
    with _context():
        if is_package(service_type):
            return rate * (runs or 1)
        return rate * quantity * (runs or 1) / 1000


def line_terms(rate: Decimal, quantity: int, service_type: str, multiplier: Decimal,
               runs: int | None = None) -> tuple[int, Decimal, int]:
    """(quantity, unit price, per) of an order's invoice line."""
    with _context():
        unit_price = rate * multiplier
        if is_package(service_type):
            return (runs or 1), unit_price, 1
        return quantity * (runs or 1), unit_price, 1000


def line_exact(quantity: int, unit_price: Decimal, per: int) -> Decimal:
    with _context():
        return unit_price * quantity / per


def line_amount(quantity: int, unit_price: Decimal, per: int, currency: str) -> Decimal:
    return round_money(line_exact(quantity, unit_price, per), currency)


def tax_of(subtotal: Decimal, tax_rate: Decimal, currency: str) -> Decimal:
    with _context():
        return round_money(subtotal * tax_rate / 100, currency)


def refund_of(charge: Decimal, remains: int | None, quantity: int) -> Decimal:
    """The provider's refund for undelivered units; over-delivery (negative remains) refunds nothing."""
    undelivered = clamp_remains(remains, quantity)
    if not undelivered or quantity <= 0:
        return Decimal(0)
    with _context():
        return charge * undelivered / quantity


def clamp_remains(remains: int | None, quantity: int) -> int:
    return max(0, min(remains or 0, quantity))


def to_units(value: Decimal) -> int:
    """Exact amount → integer 10⁻⁸ units (half-up beyond that, far below any currency's minor unit)."""
    return int((value * UNIT_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_units(units: int | None) -> Decimal:
    """Back to an exact Decimal, written with at least two decimals (399.60, 0.45, 1.87234)."""
    return plain(Decimal(units or 0).scaleb(-8))


def plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros beyond two decimals: 0.4500000 → 0.45, 7.2 → 7.20."""
    value = value.normalize()
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent > -2 else value


def format_money(value: Decimal, currency: str) -> str:
    sign = CURRENCY_SIGNS.get(currency.upper())
    digits = _MINOR_DIGITS.get(currency.upper(), 2)
    # Rounded here, half-up: a Decimal's own format would round half-even (0.125 → 0.12).
    text = f"{abs(round_money(value, currency)):,.{digits}f}"
    prefix = "-" if value < 0 else ""
    return f"{prefix}{sign}{text}" if sign else f"{prefix}{text} {currency.upper()}"


def format_rate(value: Decimal, currency: str) -> str:
    """A rate with all its decimals (₹18.7234), at least two: rates are not amounts to round."""
    shown = plain(value)
    sign = CURRENCY_SIGNS.get(currency.upper())
    return f"{sign}{shown:,f}" if sign else f"{shown:,f} {currency.upper()}"
