// Parses two stylesheets with the Debian "css" module (node-css) and checks that they have the same rules:
// the same sequence of rule/at-rule nodes, the same selectors and the same declarations, after a canonical
// spacing that only removes whitespace CSS itself ignores (around combinators and commas, inside parentheses,
// around "!important", after ':'). Spaces that can matter (descendant combinator, "a :hover", inside calc()) are compared
// as they are. Usage: node css-compare.js ORIGINAL MINIFIED
'use strict';
const fs = require('fs');
const css = require('css');

const canonSelector = s => s.replace(/\s+/g, ' ').replace(/\s*([>+~,])\s*/g, '$1').trim();
const canonValue = s => s.replace(/\s+/g, ' ').replace(/\s*([,])\s*/g, '$1').replace(/\(\s+/g, '(')
	.replace(/\s+\)/g, ')').replace(/\s*!\s*important/gi, '!important').replace(/:\s+/g, ':').trim();

function flatten(nodes, out) {
	for (const n of nodes || []) {
		if (n.type === 'comment')
			continue;
		if (n.type === 'rule') {
			out.push('rule ' + n.selectors.map(canonSelector).join(','));
			for (const d of n.declarations || [])
				if (d.type === 'declaration')
					out.push('  ' + d.property + ':' + canonValue(d.value || ''));
		} else {
			const prelude = n[n.type] !== undefined ? String(n[n.type]) : '';
			out.push('@' + n.type + ' ' + canonValue(prelude));
			for (const d of n.declarations || [])
				if (d.type === 'declaration')
					out.push('  ' + d.property + ':' + canonValue(d.value || ''));
			flatten(n.rules || n.keyframes, out);
		}
		if (n.type === 'keyframe') {
			out.push('keyframe ' + n.values.join(','));
			for (const d of n.declarations || [])
				out.push('  ' + d.property + ':' + canonValue(d.value || ''));
		}
	}
	return out;
}

const [a, b] = process.argv.slice(2).map(f => flatten(css.parse(fs.readFileSync(f, 'utf8'), {source: f}).stylesheet.rules, []));
if (a.length !== b.length)
	console.log(`different number of rules and declarations: ${a.length} vs ${b.length}`);
for (let i = 0; i < Math.max(a.length, b.length); i++) {
	if (a[i] !== b[i]) {
		console.log(`first difference at item ${i}:\n  original: ${a[i]}\n  minified: ${b[i]}`);
		process.exit(1);
	}
}
if (a.length !== b.length)
	process.exit(1);
console.log(`${a.length} rules and declarations identical`);
