"""Existing customers: the cost of matching a new lead to its customer's salesperson.

On a database with 100,000 contacts (20,000 companies, each with an e-mail domain and a
salesperson, and 80,000 of their people), the same leads are created with the setting
"Send leads of existing customers to their salesperson" on and off, one lead per
transaction and in batches of 100, interleaved in rounds. Half of the leads belong to
existing customers (matched by e-mail address or by domain), half to new ones (matched on
nothing, then the rotation): with the setting on, every lead pays the match. Also the time
of one match (``lead.allocation.owner._match``) on those 100,000 contacts.
"""

from ab import compare
from common import environment, sales_team, timed

COMPANIES, PEOPLE, ROUNDS, PER_ROUND = 20_000, 80_000, 6, 100


def setup():
    with environment() as env:
        _team, users = sales_team(env, "Owner Bench", (5, 5, 5))
        env.cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, is_company, email, email_normalized,
                                     user_id, active, type, commercial_partner_id)
                 SELECT 'Company ' || i, 'Company ' || i, TRUE, 'info@c' || i || '.example',
                        'info@c' || i || '.example', (%s::int[])[1 + i %% 3], TRUE, 'contact',
                        NULL
                   FROM generate_series(1, %s) i
            """,
            (users.ids, COMPANIES),
        )
        env.cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL"
        )
        env.cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, is_company, email, email_normalized,
                                     parent_id, commercial_partner_id, active, type)
                 SELECT 'Person ' || i, 'Person ' || i, FALSE,
                        'p' || i || '@c' || c.n || '.example',
                        'p' || i || '@c' || c.n || '.example', c.id, c.id, TRUE, 'contact'
                   FROM generate_series(1, %s) i
                   JOIN (SELECT id, substring(name from 9)::int AS n FROM res_partner
                          WHERE name LIKE 'Company %%' AND is_company) c
                     ON c.n = 1 + i %% %s
            """,
            (PEOPLE, COMPANIES),
        )
        env.cr.execute("ANALYZE res_partner")


def leads(round_number, side):
    """Half existing customers (a person's address, another address of a company's domain),
    half new ones."""
    result = []
    for i in range(PER_ROUND):
        n = 1 + (round_number * PER_ROUND + i) * 7 % COMPANIES
        email = (
            f"p{n}@c{1 + n % COMPANIES}.example"
            if i % 4 == 0
            else f"new{i}@c{n}.example"
            if i % 4 == 1
            else f"someone{round_number}-{i}@new{i}.example"
        )
        result.append({"name": f"{side}{round_number}-{i}", "email_from": email})
    return result


def main():
    setup()
    compare("existing customers, 100,000 contacts", "lead_allocation.route_to_owner", leads, ROUNDS)
    with environment() as env:
        vals_list = leads(99, "m")[:1]
        company = env.company.id
        env["lead.allocation.owner"]._match(vals_list, [company])  # warm
        best = timed(lambda: env["lead.allocation.owner"]._match(vals_list, [company]), 20)
        print(f"one match on 100,000 contacts: {best * 1000:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
