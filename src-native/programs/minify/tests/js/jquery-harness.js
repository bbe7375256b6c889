// Runs jQuery (the file given as argv[2]) against a domino DOM and prints what a set of jQuery calls return.
// The test runs it on the original and on the minified jQuery: both outputs must be identical.
'use strict';
const fs = require('fs');
const vm = require('vm');
const domino = require('domino');

const html = '<!doctype html><html><head><title>t</title></head><body>' +
	'<div id="a" class="x">hi <b>there</b></div><ul id="list"><li>1</li><li class="two">2</li><li>3</li></ul>' +
	'<form id="f"><input name="q" value="a b"><select name="s"><option value="1" selected>one</option></select></form>' +
	'</body></html>';
const win = domino.createWindow(html, 'http://example.test/page');
const ctx = {window: win, document: win.document, navigator: win.navigator, location: win.location,
	setTimeout, clearTimeout, console};
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[2], 'utf8'), ctx, {filename: process.argv[2]});
const $ = win.jQuery;

const results = [];
const out = (name, v) => results.push(name + ' = ' + JSON.stringify(v));
out('version', $.fn.jquery);
out('li count', $('li').length);
out('odd', $('#list li').filter(':odd').text());
out('eq', $('#list').children().eq(2).text());
out('addClass', $('#a').addClass('y z').removeClass('x').attr('class'));
out('hasClass', $('#a').hasClass('z'));
out('text', $('#a').text());
out('html escape', $('<p>').text('a<b & "c"').html());
out('find', $('#a').find('b').text());
out('closest', $('.two').closest('ul').attr('id'));
out('siblings', $('.two').siblings().map(function () { return $(this).text(); }).get());
out('serialize', $('#f').serialize());
out('param', $.param({a: [1, 2], b: 'x y', c: {d: 1}}));
out('map', $.map([1, 2, 3], (v, i) => v * i));
out('grep', $.grep([1, 2, 3, 4], v => v % 2 === 0));
out('extend deep', $.extend(true, {a: {b: 1, c: [1]}}, {a: {d: 2, c: [2, 3]}}));
out('isPlainObject', [$.isPlainObject({}), $.isPlainObject([]), $.isPlainObject(win)]);
out('inArray', $.inArray(3, [1, 2, 3]));
out('each', (() => { const r = []; $.each({x: 1, y: 2}, (k, v) => { r.push(k + v); }); return r; })());
out('data', $('#a').data('k', {x: 1}).data('k'));
out('attr data', $('<div data-n="5" data-j=\'{"a":1}\'>').data());
out('append', $('#list').append('<li>4</li>').children().length);
out('wrap', $('#a b').wrap('<i class="w"></i>').parent().is('i.w'));
out('css', $('#a').css('color', 'red').attr('style'));
out('callbacks', (() => { const r = []; const c = $.Callbacks('memory'); c.add(v => r.push('a' + v)); c.fire(1); c.add(v => r.push('b' + v)); return r; })());
const d = $.Deferred();
d.then(v => v + 1).then(v => { out('deferred', v); });
d.resolve(41);
out('trim', ' x '.trim() === $.trim(' x '));
out('escapeSelector', $.escapeSelector('a.b#c'));
out('parseHTML', $.parseHTML('<span>a</span><em>b</em>').length);
out('event', (() => { let n = 0; $('#a').on('click.ns', () => { n++; }).trigger('click').off('.ns').trigger('click'); return n; })());
setTimeout(() => { console.log(results.join('\n')); }, 10);
