# On the device: a copy of an unpacked BatchScoring whose runtimeconfig raises the thread pool's minimum.
src=$1 dst=$2 n=$3
rm -rf $dst; cp -r $src $dst
python3 - $dst/BatchScoring.runtimeconfig.json $n <<'PY'
import json,sys
p,n=sys.argv[1],int(sys.argv[2]); j=json.load(open(p)); j['runtimeOptions'].setdefault('configProperties',{})['System.Threading.ThreadPool.MinThreads']=n; json.dump(j,open(p,'w'),indent=1)
PY
