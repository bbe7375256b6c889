// Parses two JavaScript files with the Debian "acorn" module and checks that their syntax trees are identical
// (node types, names, operators, literal spellings, template text), ignoring only source positions. Equal trees
// mean the minified code has the same meaning: no token changed, and no statement boundary moved (automatic
// semicolon insertion gives a different tree). Tries a script first, then a module.
// Usage: node js-ast-compare.js ORIGINAL MINIFIED
'use strict';
const fs = require('fs');
const acorn = require('acorn');

function parse(file) {
	const text = fs.readFileSync(file, 'utf8');
	const options = {ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true};
	try {
		return acorn.parse(text, {...options, sourceType: 'script'});
	} catch (e) {
		return acorn.parse(text, {...options, sourceType: 'module'});
	}
}

function strip(key, value) {
	if (key === 'start' || key === 'end' || key === 'loc' || key === 'range')
		return undefined;
	return typeof value === 'bigint' ? value.toString() + 'n' : value;
}
const a = JSON.stringify(parse(process.argv[2]), strip);
const b = JSON.stringify(parse(process.argv[3]), strip);
if (a !== b) {
	let i = 0;
	while (i < a.length && a[i] === b[i])
		i++;
	console.log(`syntax trees differ at character ${i}:\n  original: ...${a.slice(Math.max(0, i - 80), i + 80)}\n` +
		`  minified: ...${b.slice(Math.max(0, i - 80), i + 80)}`);
	process.exit(1);
}
console.log(`identical syntax trees (${a.length} characters of JSON)`);
