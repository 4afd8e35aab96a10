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
  the two sets of matches, held in hash tables; many match, so a page fills quickly;
- many, for any other order and for counting: the same check, made on each line.

At a million lines a first page then costs 3-60 ms in every order but product and warehouse,
where a broad term costs up to 0.4 s (measured with bench/, see the note of issue 3).
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from catalog.models import Variant
from core.expressions import AnyOf, SharedSubquery

#: Up to this many variants matching, their lines are looked up by variant (id, or SKU for a
#: page in SKU order).
FEW_MATCHING_VARIANTS = 500


@dataclass(frozen=True)
class StockSearch:
    #: Variants whose SKU or barcode starts with the text, or whose name contains it.
    by_variant: QuerySet
    #: Variants of the products whose name contains the text.
    by_product: QuerySet
    #: The matching variants' ids when they are few, else None.
    few_ids: tuple[int, ...] | None
    #: Their SKUs, lowercased (the SKU index's expression), when they are few.
    few_skus: tuple[str, ...] = ()

    @classmethod
    def read(cls, text: str) -> "StockSearch":
        """The variants matching ``text`` (one query, that reads at most a few hundred ids)."""
        by_variant = Variant.objects.filter(
            Q(sku__istartswith=text) | Q(name__icontains=text) | Q(barcode__istartswith=text)
        ).order_by()
        by_product = Variant.objects.filter(product__name__icontains=text).order_by()
        first = list(
            by_variant.values_list("pk", Lower("sku")).union(
                by_product.values_list("pk", Lower("sku")), all=True
            )[: FEW_MATCHING_VARIANTS + 1]
        )
        if len(first) > FEW_MATCHING_VARIANTS:
            return cls(by_variant=by_variant, by_product=by_product, few_ids=None)
        skus = dict(first)
        return cls(
            by_variant=by_variant,
            by_product=by_product,
            few_ids=tuple(sorted(skus)),
            few_skus=tuple(sorted(set(skus.values()))),
        )

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
            # By SKU (unique), so that the condition sits on the variant table, not the line.
            return Q(variant__sku__in=self.by_variant.values("sku")) | Q(
                variant__sku__in=self.by_product.values("sku")
            )
        # Named, so that the counts above the list, three in one statement, read each set of
        # matching variants once (core.expressions.SharedSubquery).
        return Q(variant__in=SharedSubquery(self.by_variant.values("pk"), "search_by_variant")) | Q(
            variant__in=SharedSubquery(self.by_product.values("pk"), "search_by_product")
        )
