@echo off
chcp 65001 >nul
rem ---------------------------------------------------------------------------
rem 政务公开年报工具（xltool @VERSION@）：打开一个可以直接输入 xltool 命令的窗口。
rem 安装.bat 把本文件复制到桌面。窗口打开时位于本文件所在的文件夹，
rem 所以把它复制到放年报文件的文件夹里再双击，命令里就可以直接写文件夹名。
rem 要让它打开时做别的事（例如以后的 xltool serve），只改下面 XLTOOL_START 这一行。
rem 本文件是 UTF-8（无 BOM）、CRLF 换行；chcp 之前只能有英文。
rem ---------------------------------------------------------------------------
set "XLTOOL_START=xltool --help"

title 政务公开年报工具
if not defined LOCALAPPDATA set "LOCALAPPDATA=%USERPROFILE%\AppData\Local"
if not exist "%LOCALAPPDATA%\xltool\venv\Scripts\xltool.exe" goto :not_installed
set "PATH=%LOCALAPPDATA%\xltool\venv\Scripts;%PATH%"
cd /d "%~dp0"

%XLTOOL_START%
echo.
echo 当前文件夹：%CD%
echo 在下面输入 xltool 命令，例如 xltool check 回收 --year 2025 ；每个命令的帮助：xltool 命令 --help
echo.
cmd /k prompt 年报工具 $P$G
exit /b 0

:not_installed
echo 还没有安装 xltool（找不到 %LOCALAPPDATA%\xltool\venv）。
echo 请解压离线安装包，双击其中的“安装.bat”。
pause
exit /b 1
