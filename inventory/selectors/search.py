"""What a search of the inventory matches, and how the database should find those lines.

PostgreSQL estimates badly how many variants a term matches (4,000 for "hoodie" where 9,660
do), and under the list's ORDER BY ... LIMIT it then picked a nested loop that took 10 s at a
million lines. So the ids of the first ``FEW_MATCHING_VARIANTS`` + 1 matches are read first
(one UNION ALL that stops there: 1-15 ms), and the lines are found by one of three forms:

- few matches: the lines of exactly those variants, which the planner sizes right; for a page
  sorted by SKU, the variants named by SKU, so that the page walks the SKU index from where
  it starts and stops when it is full (by id it read every matching line first: 150
  variants, 4.5 ms -> 0.4 ms a page);
- many, for a page sorted by SKU: the SKU order is walked and each variant checked against
  the variants matched by SKU, barcode or name and the products matched by name, held in
  hash tables; many match, so a page fills quickly;
- many, for any other order and for counting: each line checked against the matching
  variants (by SKU, barcode or name) and the matching products (the line's copy of its
  variant's product, in the status index).

At a million lines a first page then costs 3-60 ms in every order but product and warehouse,
where a broad term costs up to 0.4 s (measured with bench/, see the note of issue 3).
"""

from dataclasses import dataclass
from functools import cache

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from catalog.models import Product, Variant
from core.expressions import AnyOf, SharedSubquery

#: Up to this many variants matching, their lines are looked up by variant (id, or SKU for a
#: page in SKU order).
FEW_MATCHING_VARIANTS = 500
#: Stands for the search text in the SQL of the first matches, built once (``_first_matches``).
TEXT_MARK = "StockroomSearchText"


@dataclass(frozen=True)
class StockSearch:
    text: str
    #: The matching variants' ids when they are few, else None.
    few_ids: tuple[int, ...] | None
    #: Their SKUs, lowercased (the SKU index's expression), when they are few.
    few_skus: tuple[str, ...] = ()

    @classmethod
    def read(cls, text: str, *, using: str | None = None) -> "StockSearch":
        """The variants matching ``text`` (one query, that reads at most a few hundred ids)."""
        using = using or router.db_for_read(Variant)
        sql, patterns = _first_matches(using, FEW_MATCHING_VARIANTS + 1)
        # As the ORM's LIKE lookups escape their value (so "50%" matches a percent sign).
        like_text = connections[using].ops.prep_for_like_query(text)
        params = [pattern.replace(TEXT_MARK, like_text) for pattern in patterns]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            first = cursor.fetchall()
        if len(first) > FEW_MATCHING_VARIANTS:
            return cls(text, few_ids=None)
        skus = dict(first)
        return cls(text, few_ids=tuple(sorted(skus)), few_skus=tuple(sorted(set(skus.values()))))

    @property
    def by_variant(self) -> QuerySet:
        """Variants whose SKU or barcode starts with the text, or whose name contains it."""
        return _by_variant(self.text)

    @property
    def by_product(self) -> QuerySet:
        """Variants of the products whose name contains the text."""
        return _by_product(self.text)

    def condition(self, *, walk_variants: bool) -> Q:
        """The stock lines matching: a condition for StockLine querysets.

        ``walk_variants``: the lines will be read in SKU order, so check the variant (once
        for its ten lines) rather than each line.
        """
        if self.few_ids is not None:
            if walk_variants:
                return Q(AnyOf(Lower("variant__sku"), self.few_skus))
            return Q(AnyOf("variant_id", self.few_ids))
        if walk_variants:
            # On the variant table, not the line: its SKU (unique), and its product among the
            # matching products: 1,380 ids in a hash for "hoodie", where the 9,660 variants
            # of those products took an index lookup per product (deep page 7.9 -> 1.2 ms).
            return Q(variant__sku__in=self.by_variant.values("sku")) | Q(
                variant__product__in=_matching_products(self.text).values("pk")
            )
        # Named, so that the counts above the list, three in one statement, read each set
        # once (core.expressions.SharedSubquery). The line's own copy of its product: the
        # 1,380 products matching "hoodie" in a hash, rather than their 9,660 variants looked
        # up product by product first (13 -> 7 ms for the three counts at a million lines).
        return Q(variant__in=SharedSubquery(self.by_variant.values("pk"), "search_by_variant")) | Q(
            product__in=SharedSubquery(
                _matching_products(self.text).values("pk"), "search_by_product"
            )
        )


def _by_variant(text: str) -> QuerySet:
    return Variant.objects.filter(
        Q(sku__istartswith=text) | Q(name__icontains=text) | Q(barcode__istartswith=text)
    ).order_by()


def _by_product(text: str) -> QuerySet:
    return Variant.objects.filter(product__name__icontains=text).order_by()


def _matching_products(text: str) -> QuerySet:
    return Product.objects.filter(name__icontains=text).order_by()


@cache
def _first_matches(using: str, limit: int) -> tuple[str, tuple[str, ...]]:
    """The SQL of the first ``limit`` matching variants' (id, lowercased SKU), and its
    parameters with ``TEXT_MARK`` where the search text goes.

    Built once by the ORM from the same lookups as ``by_variant`` and ``by_product``, so that
    it reads the same indexes: building it took as long as running it (0.6 ms), on every
    search.
    """
    query = (
        _by_variant(TEXT_MARK)
        .values_list("pk", Lower("sku"))
        .union(_by_product(TEXT_MARK).values_list("pk", Lower("sku")), all=True)[:limit]
    )
    sql, params = query.query.get_compiler(using=using).as_sql()
    if not params or not all(isinstance(p, str) and TEXT_MARK in p for p in params):
        raise RuntimeError(f"The search's SQL has unexpected parameters: {params!r}")
    return sql, tuple(params)
