// Parses two HTML documents with the Debian "domino" module (an HTML5 parser) and checks that they give the same
// DOM: the same elements with the same attributes in the same places, byte-identical <pre> and <textarea> text,
// and the same text elsewhere once runs of whitespace are compared as one space (adjacent text nodes, e.g. split
// by a removed comment, are joined; whitespace-only text is skipped, since dropping it next to block-level
// elements is the point of minifying). Script and style contents are compared by the JS and CSS checks.
// Usage: node html-compare.js ORIGINAL MINIFIED
'use strict';
const fs = require('fs');
const domino = require('domino');

function flatten(file) {
	const doc = domino.createDocument(fs.readFileSync(file, 'latin1'));
	const out = [];
	let pending = ''; /* text since the last element boundary */
	const flush = () => {
		const t = pending.replace(/[ \t\n\f\r]+/g, ' ').trim();
		if (t)
			out.push('text ' + t);
		pending = '';
	};
	(function walk(node) {
		for (let c = node.firstChild; c; c = c.nextSibling) {
			if (c.nodeType === 1) {
				flush();
				const attrs = Array.from(c.attributes).map(a => a.name + '=' + JSON.stringify(a.value)).join(' ');
				out.push('<' + c.tagName.toLowerCase() + (attrs ? ' ' + attrs : '') + '>');
				if (/^(PRE|TEXTAREA)$/.test(c.tagName))
					out.push('verbatim ' + JSON.stringify(c.textContent));
				else if (c.tagName !== 'SCRIPT' && c.tagName !== 'STYLE')
					walk(c);
				flush();
				out.push('</' + c.tagName.toLowerCase() + '>');
			} else if (c.nodeType === 3) {
				pending += c.data;
			}
		}
	})(doc);
	flush();
	return out;
}

const a = flatten(process.argv[2]), b = flatten(process.argv[3]);
for (let i = 0; i < Math.max(a.length, b.length); i++) {
	if (a[i] !== b[i]) {
		console.log(`DOMs differ at item ${i}:\n  original: ${a[i]}\n  minified: ${b[i]}`);
		process.exit(1);
	}
}
console.log(`${a.length} DOM items identical`);
