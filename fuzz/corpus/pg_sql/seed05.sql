SELECT '?', 'it''s ? blob', "?col" FROM t -- where ?
WHERE x=?