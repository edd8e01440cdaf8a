-- How likely an item of each category is to be a program, learnt from the
-- catalog itself: over the items whose debtags say what they are (role::
-- tags), the mean share of their roles that are program (or metapackage: what
-- people install to get a program, like apache2). Smoothed towards the share over all
-- categories (20 items' worth), so that a category with a few tagged items is
-- not judged on them alone. Items with no role tag take their category's
-- share as their kind (search_document.sql). An item's own share is
-- catalog_search_program_share() (migration 0006), in both files. Summed as
-- numeric: a float sum's last bits follow the order the plan adds the rows
-- in, and a share that changes by a bit changes every document of its
-- category, which a concurrent refresh then rewrites through the GIN indexes.
WITH role AS (
    SELECT item.category_id, catalog_search_program_share(array_agg(tag.name::text)) AS program
    FROM catalog_itemtag AS link
    JOIN catalog_tag AS tag ON tag.id = link.tag_id
    JOIN catalog_item AS item ON item.id = link.item_id
    WHERE tag.name LIKE 'role::%'
    GROUP BY item.id, item.category_id
),
overall AS (
    SELECT coalesce(avg(program::numeric), 0.5) AS share FROM role
)
SELECT
    category.id AS category_id,
    ((coalesce(sum(role.program::numeric), 0) + 20 * overall.share) / (count(role.program) + 20))::float8 AS program_share
FROM catalog_category AS category
CROSS JOIN overall
LEFT JOIN role ON role.category_id = category.id
GROUP BY category.id, overall.share
