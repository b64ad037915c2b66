import sys, ctypes, glob, os, random
import numpy as np, h5py
out = sys.argv[1]
random.seed(7)
exp = []
def hx(s): return (s.encode() if isinstance(s, str) else s).hex()
with h5py.File(out, 'w', libver='latest') as f:
    for n in (20, 1000, 5000):
        g = f.create_group(f'n{n}')
        names = [f'm{i:05d}' for i in range(n)]
        random.shuffle(names)
        for nm in names:
            g.create_group(nm) if n <= 1000 else g.create_dataset(nm, data=np.int32(len(nm)))
    # big link messages: soft links with long names, to need child indirect blocks
    g = f.create_group('soft')
    for i in range(3000):
        g[f'{i:04d}' + 'x' * 200] = h5py.SoftLink('/target/' + 'y' * 180 + str(i))
    # link messages larger than the heap's maximum managed object size (4 KiB): huge objects
    g = f.create_group('hugelinks')
    for i in range(12):
        g[f'h{i:02d}'] = h5py.SoftLink('/' + chr(97 + i) * (100 if i % 3 else 5000 + i))
    g = f.create_group('ordered', track_order=True)
    names = [f'o{i}' for i in range(1500)]
    random.shuffle(names)
    for nm in names:
        g.create_group(nm)
    a = f.create_group('attrs')
    names = [f'a{i:03d}' for i in range(40)]
    random.shuffle(names)
    for i, nm in enumerate(names):
        a.attrs[nm] = np.arange(i + 1, dtype='<i8') * 3 + i
    a.attrs['huge'] = np.arange(20000, dtype='<f8')
    ta = f.create_group('tattrs', track_order=True)
    for i, nm in enumerate(names):
        ta.attrs[nm] = np.float32(i) / 3
    ta.attrs['huge'] = np.arange(30000, dtype='<i4')
    # compressed link heap through libhdf5's own H5Pset_deflate
    lib = glob.glob(os.path.join(os.path.dirname(h5py.__file__), '..', 'h5py.libs', 'libhdf5-*.so*'))
    lib = [l for l in lib if 'hl' not in os.path.basename(l)]
    if lib:
        hdf = ctypes.CDLL(lib[0])
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        if hdf.H5Pset_deflate(ctypes.c_int64(gcpl.id), ctypes.c_uint(6)) >= 0:
            h5py.h5g.create(f.id, b'zipped', gcpl=gcpl)
            z = f['zipped']
            for i in range(2000):
                z[f'z{i:05d}' + 'q' * 60] = h5py.SoftLink('/' + 'p' * 100)
            z['zhuge'] = h5py.SoftLink('/' + 'r' * 9000)
    for p in ['n20', 'n1000', 'n5000', 'soft', 'hugelinks', 'ordered', 'attrs', 'tattrs', 'zipped']:
        if p not in f: continue
        g = f[p]
        for k in g.keys():
            l = g.get(k, getlink=True)
            tgt = l.path if isinstance(l, h5py.SoftLink) else ''
            exp.append(f'L /{p} {hx(k)} {hx(tgt)}')
        for k in g.attrs.keys():
            exp.append(f'A /{p} {hx(k)} {np.asarray(g.attrs[k]).tobytes().hex()}')
print('\n'.join(exp))
