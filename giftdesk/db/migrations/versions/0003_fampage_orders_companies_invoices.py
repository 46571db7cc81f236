"""fampage orders companies invoices

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:11:13.717450
"""

from alembic import op
import sqlalchemy as sa
import giftdesk.db.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('tax_id', sa.String(length=50), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('invoice_multiplier', giftdesk.db.types.DecimalText(length=40), nullable=True),
    sa.Column('archived_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies'))
    )
    op.create_table('fampage_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('params', giftdesk.db.types.JSONText(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fampage_calls'))
    )
    with op.batch_alter_table('fampage_calls', schema=None) as batch_op:
        batch_op.create_index('ix_fampage_calls_at', ['at'], unique=False)

    op.create_table('fampage_services',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=300), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('rate', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=False),
    sa.Column('max_quantity', sa.Integer(), nullable=False),
    sa.Column('refill', sa.Boolean(), nullable=False),
    sa.Column('cancel', sa.Boolean(), nullable=False),
    sa.Column('dripfeed', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('first_seen_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('refreshed_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fampage_services'))
    )
    with op.batch_alter_table('fampage_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fampage_services_network'), ['network'], unique=False)

    op.create_table('invoice_counters',
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_invoice_counters'))
    )
    op.create_table('fampage_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('service_name', sa.String(length=500), nullable=False),
    sa.Column('service_type', sa.String(length=64), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=False),
    sa.Column('link_key', sa.String(length=1000), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=True),
    sa.Column('interval', sa.Integer(), nullable=True),
    sa.Column('rate', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('cost', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('charge', giftdesk.db.types.DecimalText(length=40), nullable=True),
    sa.Column('refund', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('multiplier', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('provider_order_id', sa.BigInteger(), nullable=True),
    sa.Column('status_raw', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('start_count', sa.Integer(), nullable=True),
    sa.Column('remains', sa.Integer(), nullable=True),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('refill_id', sa.BigInteger(), nullable=True),
    sa.Column('refill_status', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('synced_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('cost_units', sa.BigInteger(), nullable=False),
    sa.Column('revenue_units', sa.BigInteger(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_fampage_orders_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['fampage_services.id'], name=op.f('fk_fampage_orders_service_id_fampage_services'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fampage_orders')),
    sa.UniqueConstraint('provider_order_id', name=op.f('uq_fampage_orders_provider_order_id'))
    )
    with op.batch_alter_table('fampage_orders', schema=None) as batch_op:
        batch_op.create_index('ix_fampage_orders_company_created', ['company_id', 'created_at'], unique=False)
        batch_op.create_index('ix_fampage_orders_company_rollup', ['company_id', 'state', 'created_at', 'cost_units', 'revenue_units'], unique=False)
        batch_op.create_index('ix_fampage_orders_company_services', ['company_id', 'service_name', 'state', 'created_at'], unique=False)
        batch_op.create_index('ix_fampage_orders_link_key', ['link_key'], unique=False)
        batch_op.create_index('ix_fampage_orders_rollup', ['state', 'service_type', 'network', 'created_at', 'cost_units', 'revenue_units'], unique=False)

    op.create_table('fampage_service_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('rate', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('seen_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['fampage_services.id'], name=op.f('fk_fampage_service_rates_service_id_fampage_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fampage_service_rates'))
    )
    with op.batch_alter_table('fampage_service_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fampage_service_rates_service_id'), ['service_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('credited_invoice_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_rate', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('tax_label', sa.String(length=50), nullable=True),
    sa.Column('subtotal', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('tax', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('total', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('paid_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('voided_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('issuer', giftdesk.db.types.JSONText(), nullable=True),
    sa.Column('client', giftdesk.db.types.JSONText(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_invoices_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['credited_invoice_id'], ['invoices.id'], name=op.f('fk_invoices_credited_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['fampage_orders.id'], name=op.f('fk_invoices_order_id_fampage_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_company', ['company_id'], unique=False)
        batch_op.create_index('ix_invoices_issue_date', ['issue_date'], unique=False)

    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.Column('per', sa.Integer(), nullable=False),
    sa.Column('amount', giftdesk.db.types.DecimalText(length=40), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name='uq_invoice_lines_position')
    )


def downgrade() -> None:
    op.drop_table('invoice_lines')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_issue_date')
        batch_op.drop_index('ix_invoices_company')

    op.drop_table('invoices')
    with op.batch_alter_table('fampage_service_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fampage_service_rates_service_id'))

    op.drop_table('fampage_service_rates')
    with op.batch_alter_table('fampage_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_fampage_orders_rollup')
        batch_op.drop_index('ix_fampage_orders_link_key')
        batch_op.drop_index('ix_fampage_orders_company_services')
        batch_op.drop_index('ix_fampage_orders_company_rollup')
        batch_op.drop_index('ix_fampage_orders_company_created')

    op.drop_table('fampage_orders')
    op.drop_table('invoice_counters')
    with op.batch_alter_table('fampage_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fampage_services_network'))

    op.drop_table('fampage_services')
    with op.batch_alter_table('fampage_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_fampage_calls_at')

    op.drop_table('fampage_calls')
    op.drop_table('companies')
