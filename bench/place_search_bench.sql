\timing on
CREATE TEMP TABLE pool AS SELECT regexp_split_to_array('幸福和平建设人民解放光明新华胜利东风红旗团结友谊长江黄河中山文化朝阳春华锦绣金桥玉泉翠湖青山碧水', '') AS c;
-- district, 20 streets, 400 communities, 4000 grids
INSERT INTO grid_area (kind, name, code, is_active, created_at, lft, rght, tree_id, level, parent_id)
VALUES ('district', '城关区', '510703', true, now(), 1, 2, 1, 0, NULL);
INSERT INTO grid_area (kind, name, code, is_active, created_at, lft, rght, tree_id, level, parent_id)
SELECT 'street', p.c[1 + (i*3) % 40] || p.c[1 + (i*7) % 40] || '街道', '510703' || lpad(i::text, 3, '0'), true, now(), 1, 2, 1, 1,
       (SELECT id FROM grid_area WHERE code = '510703')
FROM generate_series(1, 20) i, pool p;
INSERT INTO grid_area (kind, name, code, is_active, created_at, lft, rght, tree_id, level, parent_id)
SELECT 'community', p.c[1 + (s.id*5 + j*11) % 40] || p.c[1 + (s.id*13 + j*3) % 40] || '社区', s.code || lpad(j::text, 3, '0'), true, now(), 1, 2, 1, 2, s.id
FROM grid_area s, generate_series(1, 20) j, pool p WHERE s.kind = 'street';
INSERT INTO grid_area (kind, name, code, is_active, created_at, lft, rght, tree_id, level, parent_id)
SELECT 'grid', replace(c.name, '社区', '') || '第' || k || '网格', c.code || lpad(k::text, 3, '0'), (k <> 10), now(), 1, 2, 1, 3, c.id
FROM grid_area c, generate_series(1, 10) k WHERE c.kind = 'community';
-- 84 buildings per grid (336k), 3 units each (1.008M units)
INSERT INTO grid_building (grid_id, number, name, address, latitude, longitude, created_at)
SELECT g.id, n || '号楼',
       p.c[1 + (g.id*7 + n/20) % 40] || p.c[1 + (g.id*11 + n/20*3) % 40] || (ARRAY['花园','小区','苑','家园'])[1 + (g.id + n/20) % 4],
       p.c[1 + (g.id*3 + n/40) % 40] || p.c[1 + (g.id*17 + n/40) % 40] || '路' || (g.id % 500 + n) || '号',
       31.30 + (g.id % 64) * 0.005 + (n % 9) * 0.0004, 104.50 + (g.id / 64) * 0.005 + (n / 9) * 0.0004, now()
FROM grid_area g, generate_series(1, 84) n, pool p WHERE g.kind = 'grid';
INSERT INTO grid_unit (building_id, number, created_at)
SELECT b.id, u || '单元', now() FROM grid_building b, generate_series(1, 3) u;
ANALYZE grid_area; ANALYZE grid_building; ANALYZE grid_unit;
SELECT (SELECT count(*) FROM grid_area) areas, (SELECT count(*) FROM grid_building) buildings, (SELECT count(*) FROM grid_unit) units;
